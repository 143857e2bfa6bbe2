from __future__ import annotations

from typing import Any

from rest_framework import serializers

from scoring import engine
from scoring.group_actions import GroupActionCell
from scoring.models import GroupActionCode


class ContributionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["attribute", "event", "decay", "inactivity", "smart", "cap"])
    label = serializers.CharField()  # type: ignore[assignment]  # a field: DRF pops it from the class
    points = serializers.FloatField()
    at = serializers.DateTimeField(allow_null=True)
    part = serializers.ChoiceField(choices=["static", "dynamic", "total"], help_text="Which part it counts in.")


class RecommendedActionSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="The combined group, e.g. `B1`.")
    code = serializers.ChoiceField(choices=GroupActionCode.values, help_text="The kind of next step.")
    text = serializers.CharField(help_text="The tenant's recommended action for the group, as its admins wrote it.")


class LeadScoreExplanationSerializer(serializers.Serializer):
    """The score and every contribution to it; the points add up exactly to `total`."""

    total = serializers.FloatField()
    static = serializers.FloatField()
    dynamic = serializers.FloatField()
    version = serializers.IntegerField(allow_null=True, help_text="The rules' version; null: not scored yet.")
    scored_at = serializers.DateTimeField(allow_null=True)
    contributions = ContributionSerializer(many=True)
    recommended_action = RecommendedActionSerializer(
        allow_null=True, help_text="What to do with a lead of this group (an extension); null: not scored yet."
    )


def _at(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _action_body(action: GroupActionCell | None) -> dict[str, Any] | None:
    return None if action is None else {"group": action.group, "code": action.code, "text": action.words}


def explanation_body(
    *, result: engine.ScoreResult | None, scored_at: Any, action: GroupActionCell | None = None
) -> dict[str, Any]:
    if result is None:
        return {
            "total": 0.0, "static": 0.0, "dynamic": 0.0, "version": None, "scored_at": None, "contributions": [],
            "recommended_action": None,
        }
    return {
        "total": float(result.total),
        "static": float(result.static),
        "dynamic": float(result.dynamic),
        "version": result.version,
        "scored_at": _at(scored_at),
        "contributions": [
            {"kind": item.kind, "label": item.label, "points": float(item.points), "at": _at(item.at), "part": item.part}
            for item in result.contributions
        ],
        "recommended_action": _action_body(action),
    }
