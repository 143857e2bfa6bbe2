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


class EventStatus(models.TextChoices):
    ATTACHED = "attached", _("已关联")
    PENDING = "pending", _("待关联")  # its lead has not arrived yet; attaches when it does


class EventFlag(models.TextChoices):
    """Why a kept event is not scored (API.md: unknown types are kept, flagged, not scored)."""

    NONE = "", _("无")
    UNKNOWN_TYPE = "unknown_type", _("未知事件类型")
    FUTURE = "future", _("发生时间在未来")
    TOO_OLD = "too_old", _("发生时间过早")
    AMBIGUOUS = "ambiguous", _("对应多条线索")


class RefKind(models.TextChoices):
    ID = "id", "id"
    EXTERNAL_ID = "external_id", "external_id"
    MOBILE = "mobile", "mobile"
    EMAIL = "email", "email"


class LeadEvent(TenantOwnedModel):
    """A behaviour event (POST /api/v1/events). `event_id` is the sender's and unique per
    tenant, so a retried batch counts each event once. An event whose lead is not known yet is
    kept `pending` with its normalised reference (`ref_kind`, `ref_value`) and attaches when a
    lead with that reference arrives. `created_at` is when it was received."""

    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=50)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.ATTACHED)
    flag = models.CharField(max_length=16, choices=EventFlag.choices, default=EventFlag.NONE, blank=True)
    ref_kind = models.CharField(max_length=12, choices=RefKind.choices)
    ref_value = models.CharField(max_length=254)  # normalised as intake normalises that field
    # With an `external_id` reference, the lead's `source` when the sender gave it (a lead is
    # unique by source + external id); empty: any source.
    ref_source = models.CharField(max_length=50, blank=True, default="", db_default="")

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            # Event id first: an index leading with the tenant looks free to a planner whose
            # statistics predate the tenant's events, and scoring then read all of them once per
            # lead instead of each lead's own by `scoring_event_lead_at_idx`.
            models.UniqueConstraint(fields=["event_id", "tenant"], name="scoring_event_unique_id"),
        ]
        indexes = [
            # A lead's events in time order: the worker's rescore, the explanation, the timeline.
            # Lead first (lead ids are unique across tenants): deleting leads checks this
            # table by lead id alone, once per lead.
            models.Index(fields=["lead", "occurred_at"], name="scoring_event_lead_at_idx"),
            # Pending events by reference: what intake's committed hook attaches (small).
            models.Index(
                fields=["tenant", "ref_kind", "ref_value"], name="scoring_event_pending_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class ScoreChangeReason(models.TextChoices):
    INTAKE = "intake", _("线索进入")
    EVENT = "event", _("行为事件")
    RESCORE = "rescore", _("规则发布后重新评分")
    DECAY = "decay", _("随时间衰减")
    EDIT = "edit", _("线索资料修改后重新评分")


class ScoreChange(TenantOwnedModel):
    """One change of a lead's score (the history chart, the timeline): the new values and the
    total before. Written where the score changes, in the same statement or transaction."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+", db_index=False)
    at = models.DateTimeField()
    reason = models.CharField(max_length=10, choices=ScoreChangeReason.choices)
    version = models.PositiveIntegerField()
    previous_total = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)  # null: first score
    total = _points()
    static = _points()
    dynamic = _points()
    grade = models.CharField(max_length=1)
    level = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=8)
    mature = models.BooleanField()

    class Meta(TenantOwnedModel.Meta):
        # lead first: deleting leads checks this table by lead id alone
        indexes = [models.Index(fields=["lead", "at"], name="scoring_change_lead_at_idx")]


class GroupActionCode(models.TextChoices):
    """What kind of next step a group's action is: a short code other apps (assignment, reports)
    can act on; the text says it for people."""

    CALL_NOW = "call_now", _("立即联系")
    FOLLOW_UP = "follow_up", _("尽快跟进")
    NURTURE = "nurture", _("营销培育")
    VERIFY = "verify", _("核实信息")
    LONG_TERM = "long_term", _("长期培育")
    DROP = "drop", _("培育或放弃")


class GroupAction(TenantOwnedModel):
    """The recommended action for one cell of the combined group (SPEC §4): static grade A–D
    by dynamic level 1–3, e.g. B1. Twelve rows per tenant, installed with the defaults and
    edited as a grid by admins; not versioned with the rules (it is advice, not a score)."""

    grade = models.CharField(max_length=1)
    level = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=16, choices=GroupActionCode.choices)
    text = models.CharField(max_length=200)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "grade", "level"], name="scoring_groupaction_unique_cell"),
            models.CheckConstraint(
                condition=Q(grade__in=["A", "B", "C", "D"]) & Q(level__gte=1) & Q(level__lte=3),
                name="scoring_groupaction_valid_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grade}{self.level}"

    @property
    def group(self) -> str:
        return f"{self.grade}{self.level}"
class RescoreJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_RESCORE_STATUSES = (RescoreJobStatus.QUEUED, RescoreJobStatus.RUNNING)


class RescoreJob(TenantOwnedModel):
    """Rescoring the tenant's leads with one rule set, chunk by chunk of lead ids (`RescoreChunk`;
    the progress bar reads `done`/`total`). A worker killed mid-way leaves its chunk undone, and
    whoever runs the job next takes it again. At most one job per tenant is queued or running,
    so two publishes cannot interleave."""

    rule_set = models.ForeignKey(ScoringRuleSet, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.PositiveIntegerField()
    reason = models.CharField(max_length=10, choices=ScoreChangeReason.choices, default=ScoreChangeReason.RESCORE)
    status = models.CharField(max_length=8, choices=RescoreJobStatus.choices, default=RescoreJobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)  # leads to go through (ids up to `last_lead_id`)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)  # leads whose score columns were written
    last_lead_id = models.BigIntegerField(default=0)  # leads that arrive later are scored by intake
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(status__in=["queued", "running"]), name="scoring_rescorejob_one_active"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="scoring_rescorejob_recent_idx")]

    def __str__(self) -> str:
        return f"v{self.version} {self.reason} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RESCORE_STATUSES

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, self.done * 100 // self.total)


class RescoreChunk(TenantOwnedModel):
    """One chunk of a job's leads (low_id < id ≤ high_id), done in one transaction by whichever
    worker locks it first (FOR UPDATE SKIP LOCKED), so two workers share a job chunk by chunk."""

    job = models.ForeignKey(RescoreJob, on_delete=models.CASCADE, related_name="+", db_index=False)
    low_id = models.BigIntegerField()
    high_id = models.BigIntegerField()
    leads = models.PositiveIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "job", "low_id"], name="scoring_rescorechunk_job_idx")]

    def __str__(self) -> str:
        return f"job {self.job_id} ({self.low_id}, {self.high_id}]"
