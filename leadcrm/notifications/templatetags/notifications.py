"""`{% unread_notification_count %}`: the bell's number on every workbench page, one count
over the partial unread index (the page runs inside its tenant's scope)."""

from __future__ import annotations

from typing import Any

from django import template

from leadcrm.notifications.selectors import notification_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context: Any) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if getattr(request, "tenant", None) is None or user is None or not user.is_authenticated:
        return 0
    return notification_unread_count(recipient_id=user.id)
