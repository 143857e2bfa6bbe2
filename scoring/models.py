"""Scoring rules as tenant data (SPEC §4): a versioned rule set with its attribute rules and
event-type catalogue. A published set is never edited: a change is a new draft, published in
its turn, and the old version stays readable (a lead's explanation names its version)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadcrm.models import TenantOwnedModel


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    ARCHIVED = "archived", _("已归档")


class Dimension(models.TextChoices):
    COMPANY = "company", _("公司")
    CONTACT = "contact", _("联系人")
    SOURCE = "source", _("来源渠道")


class Operator(models.TextChoices):
    EQUALS = "equals", _("等于")
    IN = "in", _("属于")
    CONTAINS = "contains", _("包含")
    RANGE = "range", _("范围")
    IS_EMPTY = "is_empty", _("为空")


class Strength(models.TextChoices):
    STRONG = "strong", _("强")
    MEDIUM = "medium", _("中")
    WEAK = "weak", _("弱")


class CapPeriod(models.TextChoices):
    DAY = "day", _("每天")
    WEEK = "week", _("每周")
    MONTH = "month", _("每月")


def _points() -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(max_digits=6, decimal_places=2)


class ScoringRuleSet(TenantOwnedModel):
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Thresholds: inclusive lower bounds on static (grades), dynamic (levels), total (tiers).
    grade_a = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(75))
    grade_b = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(50))
    grade_c = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(25))
    level_1 = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(60))
    level_2 = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(30))
    tier_hot = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(80))
    tier_warm = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(50))
    mature = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(50))  # 及格线
    inactivity_days = models.PositiveIntegerField(null=True, blank=True)
    inactivity_points = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(0))
    dimension_caps = models.JSONField(default=dict, blank=True)  # {"company": 40, ...}; absent: no cap

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="scoring_ruleset_unique_version"),
            # One published set per tenant: what intake and the rescore use.
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(status="published"), name="scoring_ruleset_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.status})"


class AttributeRule(TenantOwnedModel):
    rule_set = models.ForeignKey(ScoringRuleSet, on_delete=models.CASCADE, related_name="attribute_rules")
    dimension = models.CharField(max_length=16, choices=Dimension.choices, default=Dimension.CONTACT)
    label = models.CharField(max_length=100)
    field = models.CharField(max_length=50)  # a name from leads.fields.LEAD_FIELDS
    operator = models.CharField(max_length=16, choices=Operator.choices)
    value = models.JSONField(default=None, null=True, blank=True)
    points = _points()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "rule_set", "position"], name="scoring_attrrule_set_idx")]

    def __str__(self) -> str:
        return self.label


class EventType(TenantOwnedModel):
    rule_set = models.ForeignKey(ScoringRuleSet, on_delete=models.CASCADE, related_name="event_types")
    key = models.CharField(max_length=50)  # what the events API sends as `type`
    label = models.CharField(max_length=100)
    strength = models.CharField(max_length=8, choices=Strength.choices, default=Strength.MEDIUM)
    points = _points()
    cap_count = models.PositiveIntegerField(null=True, blank=True)  # occurrences per period; null: no cap
    cap_period = models.CharField(max_length=8, choices=CapPeriod.choices, default=CapPeriod.DAY)
    half_life_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)  # null: no decay

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "rule_set", "key"], name="scoring_eventtype_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_negative(self) -> bool:
        return self.points < 0
