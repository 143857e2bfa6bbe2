"""Reading a person's notifications (the bell, the list page, GET /api/v1/notifications).
Always the recipient's own, inside the tenant's scope: nobody reads another's."""

from __future__ import annotations

from django.db.models import QuerySet

from leadcrm.notifications.models import Notification


def notification_list(*, recipient_id: int, unread_only: bool = False) -> QuerySet[Notification]:
    """Newest first (the recipient index serves it)."""
    query = Notification.objects.filter(recipient_id=recipient_id)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return query.order_by("-created_at", "-id")


def notification_unread_count(*, recipient_id: int) -> int:
    """The bell's number: one index-only count over the partial unread index."""
    return Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True).count()
