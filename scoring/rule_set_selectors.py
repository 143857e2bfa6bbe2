"""Reads for the scoring settings pages: the rule set versions, the rescore jobs, and the
preview of a draft (the grade and tier distribution of the tenant's real leads, as the
published rules and as the draft score them, computed set-based by the SQL engine)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from scoring import engine, engine_sql
from scoring.models import RescoreJob, RuleSetStatus, ScoringRuleSet
from scoring.services import rule_set_to_engine, rules_published

# Above this many leads the preview scores a TABLESAMPLE of about this many (and says so).
PREVIEW_FULL_LIMIT = 200_000
GRADES = ("A", "B", "C", "D")
TIERS = ("hot", "warm", "cold")


def rule_set_list() -> QuerySet[ScoringRuleSet]:
    return ScoringRuleSet.objects.select_related("published_by").order_by("-version")


def rule_set_get(*, rule_set_id: int) -> ScoringRuleSet | None:
    return ScoringRuleSet.objects.filter(id=rule_set_id).first()


def rule_set_draft() -> ScoringRuleSet | None:
    return ScoringRuleSet.objects.filter(status=RuleSetStatus.DRAFT).order_by("-version").first()


def rescore_job_get(*, job_id: int) -> RescoreJob | None:
    return RescoreJob.objects.filter(id=job_id).first()


def rescore_job_latest() -> RescoreJob | None:
    return RescoreJob.objects.order_by("-created_at", "-id").first()


def rescore_job_eta(job: RescoreJob, *, now: datetime | None = None) -> timedelta | None:
    """Time left at the pace so far; None before the first chunk is done."""
    if not job.is_active or job.started_at is None or job.done == 0:
        return None
    elapsed = (now or timezone.now()) - job.started_at
    return elapsed * (job.total - job.done) / job.done


@dataclass
class Distribution:
    grades: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    mature: int = 0
    leads: int = 0


@dataclass(frozen=True)
class PreviewRow:
    key: str
    current: int
    draft: int

    @property
    def change(self) -> int:
        return self.draft - self.current


@dataclass(frozen=True)
class Preview:
    leads: int  # leads scored for the preview (the sample's size when sampled)
    tenant_leads: int
    sampled: bool
    grades: list[PreviewRow]
    tiers: list[PreviewRow]
    mature: PreviewRow
    moved_grade: int  # leads whose grade the draft changes
    moved_tier: int


def _tenant_lead_count(tenant_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead WHERE tenant_id = %s", [tenant_id])
        return int(cursor.fetchone()[0])


def rule_set_preview(*, tenant_id: int, rule_set: ScoringRuleSet, now: datetime | None = None) -> Preview:
    """Both rule sets score the same leads (the same REPEATABLE sample when the tenant is huge),
    in one statement each; the leads themselves are not touched."""
    now = now or timezone.now()
    total = _tenant_lead_count(tenant_id)
    sample = None if total <= PREVIEW_FULL_LIMIT else max(0.01, min(100.0, PREVIEW_FULL_LIMIT * 100 / total))
    draft_rules = rule_set_to_engine(rule_set=rule_set)
    current_rules = rules_published(tenant_id=tenant_id) or engine.RuleSet(version=0)
    current = engine_sql.score_select(rules=current_rules, tenant_id=tenant_id, now=now, sample_percent=sample, name="cur_")
    draft = engine_sql.score_select(rules=draft_rules, tenant_id=tenant_id, now=now, sample_percent=sample, name="new_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('extra_float_digits', '1', true)")
        cursor.execute(
            f"WITH {current.ctes}, {draft.ctes} "  # noqa: S608 - built from parameters
            "SELECT c.grade, c.tier, c.mature, d.grade, d.tier, d.mature, count(*) "
            "FROM cur_scored AS c JOIN new_scored AS d USING (id) GROUP BY 1, 2, 3, 4, 5, 6",
            {**current.params, **draft.params},
        )
        groups = cursor.fetchall()
    before, after = Distribution(), Distribution()
    moved_grade = moved_tier = 0
    for old_grade, old_tier, old_mature, grade, tier, mature, count in groups:
        for side, (g, t, m) in ((before, (old_grade, old_tier, old_mature)), (after, (grade, tier, mature))):
            side.grades[g] += count
            side.tiers[t] += count
            side.mature += count if m else 0
            side.leads += count
        moved_grade += count if grade != old_grade else 0
        moved_tier += count if tier != old_tier else 0
    return Preview(
        leads=after.leads, tenant_leads=total, sampled=sample is not None,
        grades=[PreviewRow(key, before.grades[key], after.grades[key]) for key in GRADES],
        tiers=[PreviewRow(key, before.tiers[key], after.tiers[key]) for key in TIERS],
        mature=PreviewRow("mature", before.mature, after.mature),
        moved_grade=moved_grade, moved_tier=moved_tier,
    )
