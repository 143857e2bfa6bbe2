"""In-product notifications (the workbench bell, GET /api/v1/notifications), optionally also
e-mailed. Any app may notify; this package knows no app (`kind` and `data` carry the meaning,
the sender renders `title` and `body` in the recipient's language)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadcrm.models import TenantOwnedModel


class Notification(TenantOwnedModel):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=50)  # e.g. sla.warning, sla.violation, pool.no_eligible_rep
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)  # where it leads in the workbench
    data = models.JSONField(default=dict, blank=True)  # ids the sender needs (lead, pool, …)
    read_at = models.DateTimeField(null=True, blank=True)
    # The sender's key for "this notification once" (e.g. "sla.warning:<lead>:<deadline>"):
    # a retried task notifies once.
    dedup_key = models.CharField(max_length=200, blank=True)

    class Meta(TenantOwnedModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["tenant", "recipient"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "recipient", "dedup_key"], name="notification_once", condition=~Q(dedup_key="")
            ),
        ]
