"""A lead's score over time, for the chart on its page: its `ScoreChange` rows, oldest first,
with the first score when no row records it (leads scored before the history existed, or a
history whose first row already has a total before it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from leads.models import Lead
from scoring.models import ScoreChange, ScoreChangeReason
from scoring.services import rules_of_version

HISTORY_POINTS = 200  # the newest; a chart of more is unreadable on a phone anyway


@dataclass(frozen=True)
class HistoryPoint:
    at: datetime
    total: Decimal
    reason: str  # a ScoreChangeReason value
    tier: str

    @property
    def reason_label(self) -> str:
        return str(ScoreChangeReason(self.reason).label) if self.reason in ScoreChangeReason.values else self.reason


@dataclass(frozen=True)
class ScoreHistory:
    points: list[HistoryPoint]
    tier_hot: Decimal | None  # the lines of the lead's current rules; None: its rules are gone
    tier_warm: Decimal | None
    mature: Decimal | None

    def chart_data(self) -> dict[str, Any]:
        """What the page's script draws (JSON-safe)."""
        return {
            "points": [
                {"t": point.at.isoformat(), "total": float(point.total), "reason": point.reason_label}
                for point in self.points
            ],
            "hot": float(self.tier_hot) if self.tier_hot is not None else None,
            "warm": float(self.tier_warm) if self.tier_warm is not None else None,
        }


def lead_score_history(*, lead: Lead) -> ScoreHistory:
    """The lead's score history; no points for a lead never scored."""
    if lead.scored_at is None:
        return ScoreHistory(points=[], tier_hot=None, tier_warm=None, mature=None)
    rows = list(
        ScoreChange.objects.filter(lead_id=lead.id)
        .order_by("-at", "-id")
        .values_list("at", "total", "reason", "tier", "previous_total")[:HISTORY_POINTS]
    )
    rows.reverse()
    points = [HistoryPoint(at=at, total=total, reason=reason, tier=tier) for at, total, reason, tier, _ in rows]
    if not rows:
        points = [HistoryPoint(at=lead.scored_at, total=lead.score_total, reason=ScoreChangeReason.INTAKE, tier=lead.tier)]
    elif rows[0][4] is not None and len(rows) < HISTORY_POINTS:
        # The first row changed a score nobody recorded: it was given when the lead arrived.
        first_at = min(lead.created_at, rows[0][0])
        points.insert(0, HistoryPoint(at=first_at, total=rows[0][4], reason=ScoreChangeReason.INTAKE, tier=""))
    rules = rules_of_version(tenant_id=lead.tenant_id, version=lead.score_version) if lead.score_version else None
    if rules is None:
        return ScoreHistory(points=points, tier_hot=None, tier_warm=None, mature=None)
    thresholds = rules.thresholds
    return ScoreHistory(
        points=points, tier_hot=thresholds.tier_hot, tier_warm=thresholds.tier_warm, mature=thresholds.mature
    )
