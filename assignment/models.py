"""Pools (线索池, the public 公海), who may receive leads (routing profiles), assignment rules,
follow-ups, SLA policies and their violations (SPEC §5–§6, API.md "Pools, assignment,
follow-up, SLA"). Counters that caps are checked against live in rows locked by the writer,
so concurrent assignment can never exceed a cap."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadcrm.models import TenantOwnedModel


class PoolKind(models.TextChoices):
    PRIVATE = "private", _("私有池")
    PUBLIC = "public", _("公海")


class Pool(TenantOwnedModel):
    """A lead pool. A lead enters the first pool, by `position`, whose `entry_conditions`
    match (API.md CONDITIONS: {"province": [..], "city": [..], "industry": [..], "source": [..],
    "grade": [..], "tier": [..]}; {} matches every lead); the default pool (公海池, last) takes
    every other lead."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    is_default = models.BooleanField(default=False)
    kind = models.CharField(max_length=8, choices=PoolKind.choices, default=PoolKind.PUBLIC)
    position = models.PositiveIntegerField(default=0)
    entry_conditions = models.JSONField(default=dict, blank=True)
    daily_claim_cap = models.PositiveIntegerField(null=True, blank=True)  # per rep per day; null: no cap
    max_held = models.PositiveIntegerField(null=True, blank=True)  # open leads a rep may hold from it
    recycle_after_days = models.PositiveIntegerField(null=True, blank=True)  # unworked leads go back
    mask_contacts = models.BooleanField(default=False)  # contact details hidden until claimed
    is_active = models.BooleanField(default=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="pool_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class PoolMember(TenantOwnedModel):
    """Who works a pool: members see and claim from it, admins configure it and are told when
    a lead finds no eligible rep."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    is_admin = models.BooleanField(default=False)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "pool", "user"], name="poolmember_unique")]


class RoutingProfile(TenantOwnedModel):
    """A rep's availability for routing (API.md PUT /members/{id}/routing). Empty
    `working_hours` means always on duty. `penalty_until`: no new leads until then (SLA
    penalty). `cap_bonus`: extra daily receive cap earned by timeliness, recomputed nightly."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    on_duty = models.BooleanField(default=True)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    working_hours = models.JSONField(default=list, blank=True)  # [{"weekday": 0..6, "start": "09:00", "end": "18:00"}]
    daily_receive_cap = models.PositiveIntegerField(null=True, blank=True)
    max_open = models.PositiveIntegerField(null=True, blank=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(1))
    penalty_until = models.DateTimeField(null=True, blank=True)
    cap_bonus = models.PositiveIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="routingprofile_unique_user")]


class RepDay(TenantOwnedModel):
    """What a rep received and claimed on one day (the tenant's calendar): the row the
    assigner locks to check and raise the daily caps in one step."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    received = models.PositiveIntegerField(default=0)
    claimed = models.PositiveIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "day"], name="repday_unique")]


class Strategy(models.TextChoices):
    DESIGNATED = "designated", _("指定分配")
    ROUND_ROBIN = "round_robin", _("轮流分配")
    WEIGHTED = "weighted", _("按权重分配")


class AssignmentRule(TenantOwnedModel):
    """One ordered rule of a pool: the first whose conditions match the lead routes it.
    `rr_cursor` counts the leads this rule has given out, so round-robin continues where it
    stopped across restarts and workers (the rule row is locked while it advances)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100, blank=True)
    conditions = models.JSONField(default=dict, blank=True)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    reps = models.JSONField(default=list)  # [{"user": USER_ID, "weight": number}]
    respect_working_hours = models.BooleanField(default=True)
    exclude_previous_owner = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    rr_cursor = models.BigIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "pool", "position"], name="assignrule_pool_pos_idx")]


class FollowUpKind(models.TextChoices):
    CALL = "call", _("电话")
    VISIT = "visit", _("拜访")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    MEETING = "meeting", _("会议")


class FollowUp(TenantOwnedModel):
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+", db_index=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=FollowUpKind.choices)
    content = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)
    # Set when this is the owner's first follow-up since the lead was assigned to them: the
    # assignment time it answers (first-response time = created_at - it), and the running
    # deadline it met, if any. The statistics and the nightly incentive read these.
    assignment_at = models.DateTimeField(null=True, blank=True)
    met_deadline_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        indexes = [
            # lead first: deleting leads checks this table by lead id alone
            models.Index(fields=["lead", "-created_at"], name="followup_lead_at_idx"),
            models.Index(fields=["tenant", "by", "-created_at"], name="followup_by_idx"),
        ]


class TimeUnit(models.TextChoices):
    MINUTES = "minutes", _("分钟")
    HOURS = "hours", _("小时")
    WORKING_HOURS = "working_hours", _("工作小时")
    DAYS = "days", _("天")


class BreachAction(models.TextChoices):
    RECYCLE = "recycle", _("收回到线索池")
    REDISTRIBUTE = "redistribute", _("重新分配")


class SlaPolicy(TenantOwnedModel):
    """T+N: a lead must be followed up by its owner within `within` of the owner change
    (API.md POST /sla-policies). `pool` null: every pool without a policy of its own."""

    name = models.CharField(max_length=100)
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    within_value = models.DecimalField(max_digits=8, decimal_places=2)
    within_unit = models.CharField(max_length=16, choices=TimeUnit.choices)
    warn_before_value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    warn_before_unit = models.CharField(max_length=16, choices=TimeUnit.choices, blank=True)
    on_breach = models.CharField(max_length=16, choices=BreachAction.choices, default=BreachAction.RECYCLE)
    penalty_days = models.PositiveIntegerField(default=3)
    is_active = models.BooleanField(default=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="slapolicy_unique_name")]


class Violation(TenantOwnedModel):
    """One missed deadline, recorded once: (lead, deadline) is unique, so sweeps racing each
    other record it once and only the one that records it acts."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    deadline_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=BreachAction.choices)
    snapshot = models.JSONField(default=dict)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "lead", "deadline_at"], name="violation_once_per_deadline"),
        ]
        indexes = [
            models.Index(fields=["tenant", "owner", "-detected_at"], name="violation_owner_idx"),
            models.Index(fields=["lead"], name="violation_lead_idx"),  # deleting leads checks by lead id
            models.Index(fields=["tenant", "-detected_at"], name="violation_detected_idx"),
        ]
