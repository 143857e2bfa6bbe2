"""Notifying people: rows for the workbench bell, and e-mail through Django's backend after
the transaction commits. Set-based and idempotent: a notice with a `dedup_key` is stored once
per recipient (a retried task or a second sweep notifies nobody twice) and e-mailed only when
it was stored now."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone

from leadcrm.db import json_param
from leadcrm.notifications.models import Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    recipient_id: int
    kind: str  # e.g. "sla.warning", "sla.violation", "pool.no_eligible_rep", "lead.assigned"
    title: str  # already in the recipient's language
    body: str = ""
    url: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    dedup_key: str = ""  # "" : always a new notification
    email: bool = False  # also e-mail it (after commit)


_INSERT_SQL = """
    INSERT INTO notifications_notification
        (tenant_id, created_at, updated_at, recipient_id, kind, title, body, url, data, dedup_key)
    SELECT %(tenant)s, %(now)s, %(now)s, n.recipient_id, n.kind, n.title, n.body, n.url, n.data, n.dedup_key
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS n(
          recipient_id bigint, kind text, title text, body text, url text, data jsonb, dedup_key text)
    ON CONFLICT (tenant_id, recipient_id, dedup_key) WHERE dedup_key <> '' DO NOTHING
    RETURNING id, recipient_id, dedup_key, title
"""


def notify_many(*, tenant_id: int, notices: Sequence[Notice]) -> int:
    """Store the notices in one statement (inside the tenant's scope); returns how many were
    new. Those asked to go by e-mail too are sent once the transaction commits."""
    if not notices:
        return 0
    now = timezone.now()
    rows = [
        {"recipient_id": n.recipient_id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
         "data": n.data, "dedup_key": n.dedup_key}
        for n in notices
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, {"tenant": tenant_id, "now": now, "rows": json_param(rows)})
        stored = cursor.fetchall()
    new_keys = {(recipient_id, key) for _id, recipient_id, key, _title in stored}
    to_mail = [n for n in notices if n.email and ((n.recipient_id, n.dedup_key) in new_keys)]
    if to_mail:
        transaction.on_commit(lambda: _email_send(to_mail))
    return len(stored)


def _email_send(notices: list[Notice]) -> None:
    """Best effort: the notification is already in the workbench; a mail server that is down
    costs the e-mail, never the request or the task."""
    emails = dict(User.objects.filter(id__in={n.recipient_id for n in notices}).values_list("id", "email"))
    messages = [
        EmailMessage(subject=n.title, body=f"{n.body}\n\n{n.url}".strip(), to=[emails[n.recipient_id]])
        for n in notices if emails.get(n.recipient_id)
    ]
    try:
        get_connection(fail_silently=False).send_messages(messages)
    except Exception:  # noqa: BLE001 - any backend failure; logged, the notification stands
        logger.exception("could not e-mail %d notification(s)", len(messages))


def notifications_mark_read(*, recipient_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the recipient's notifications read: those in `ids` (others' ids are ignored), or
    all when `ids` is None. Returns how many were unread until now."""
    query = Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    return query.update(read_at=timezone.now(), updated_at=timezone.now())
