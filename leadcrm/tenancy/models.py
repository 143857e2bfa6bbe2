from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadcrm.models import TenantOwnedModel, TimestampedModel


class Tenant(TimestampedModel):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    locale = models.CharField(max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], default="zh-hans")
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    OWNER = "owner", _("所有者")
    ADMIN = "admin", _("管理员")
    MANAGER = "manager", _("销售经理")
    REP = "rep", _("销售代表")
    READ_ONLY = "read_only", _("只读")


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def person_name(*, display_name: str, full_name: str, email: str, tenant_name: str = "") -> str:
    """What pages call a person: the display name set for them, else their name, else the part
    of their e-mail address before the @. Never the whole address, which reads as a log-in
    rather than a name and breaks narrow layouts: pages put it in a tooltip or a second line."""
    display_name, full_name = display_name.strip(), full_name.strip()
    # Memberships used to be created with the e-mail address as their display name, and a
    # tenant's owner with the tenant's name as their own: neither names the person.
    if display_name and display_name.lower() != email.strip().lower():
        return display_name
    if full_name and full_name != tenant_name.strip():
        return full_name
    return email.partition("@")[0] or email


class Membership(TenantOwnedModel):
    # RLS: a user may see their own memberships before a tenant is chosen (tenant switcher).
    rls_extra_using = "user_id = NULLIF(current_setting('app.user_id', true), '')::bigint"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    display_name = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_per_tenant")]
        indexes = [models.Index(fields=["tenant", "role"], name="membership_tenant_role_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return person_name(
            display_name=self.display_name, full_name=self.user.get_full_name(), email=self.user.email,
            tenant_name=self.tenant.name,
        )

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class ApiScope(models.TextChoices):
    LEADS_WRITE = "leads:write", "leads:write"
    EVENTS_WRITE = "events:write", "events:write"
    READ = "read", "read"
    # Changing the tenant's configuration (API.md's "admin scope"): cleansing rules, members…
    # A lead-submitting key (a web form's) must not be able to blacklist or unblock anyone.
    ADMIN = "admin", "admin"


ALL_SCOPES = [scope.value for scope in ApiScope]


class ApiKey(TenantOwnedModel):
    # RLS: authentication finds a key by its public prefix before the tenant is known.
    rls_extra_using = "prefix = NULLIF(current_setting('app.api_key_prefix', true), '')"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    hashed_secret = models.CharField(max_length=128)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "prefix"], name="apikey_unique_prefix_per_tenant")]
        indexes = [models.Index(fields=["tenant", "created_at"], name="apikey_tenant_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditLog(TenantOwnedModel):
    """Who changed what, when: configuration, memberships, keys and lead ownership."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict)

    class Meta(TenantOwnedModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created_idx"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="audit_tenant_object_idx"),
        ]


class IdempotencyRecord(TenantOwnedModel):
    """The first response to a POST with an `Idempotency-Key`, kept for 24 hours."""

    owner_key = models.CharField(max_length=64)  # "key:<id>" or "user:<id>": keys are per sender
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    is_complete = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "owner_key", "key"], name="idempotency_unique_key_per_sender")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]
