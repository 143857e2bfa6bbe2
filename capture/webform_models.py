"""Models of the embeddable web form: a tenant's forms and what each one counts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadcrm.models import TenantOwnedModel


class WebFormLanguage(models.TextChoices):
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"


class WebForm(TenantOwnedModel):
    """An embeddable lead form, served without log-in at /f/<key>.

    `fields` lists what the form asks, in order: {"name": a lead field or "custom.<key>",
    "label": the admin's wording ("" for the field's own), "required": bool}."""

    # RLS: the public form is found by its key before the tenant is known (capture.webform_selectors).
    rls_extra_using = "key = NULLIF(current_setting('app.webform_key', true), '')"

    name = models.CharField(max_length=100)
    # The public URL carries nothing else: 192 random bits, so no two forms (of any tenant) share
    # one in practice; the constraint is per tenant like every other (as ApiKey.prefix), and the
    # public look-up finds it through its own index.
    key = models.CharField(max_length=40, db_index=True)
    fields = models.JSONField(default=list)
    thank_you = models.TextField(max_length=1000, blank=True)
    source = models.CharField(max_length=50, blank=True)
    campaign = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, choices=WebFormLanguage.choices, default=WebFormLanguage.ZH)
    is_active = models.BooleanField(default=True)
    # Counted where they happen (F() updates), so the list reads them without counting rows.
    submission_count = models.PositiveIntegerField(default=0)  # taken in: a lead, collected or quarantined
    bot_count = models.PositiveIntegerField(default=0)  # honeypot filled: recorded, no lead
    last_submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="webform_unique_name_per_tenant"),
            models.UniqueConstraint(fields=["tenant", "key"], name="webform_unique_key_per_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="webform_tenant_created_idx")]
        verbose_name = _("网页表单")

    def __str__(self) -> str:
        return self.name
