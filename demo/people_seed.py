"""The demo's routing profiles and notifications, through the product's services, so the
成员 page and the bell are not empty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.urls import reverse

from assignment.models import Pool
from assignment.profiles import routing_profile_set
from leadcrm.notifications.models import Notification
from leadcrm.notifications.services import Notice, notify_many
from leadcrm.tenancy.models import Tenant

WEEKDAYS_9_TO_6 = [{"weekday": day, "start": "09:00", "end": "18:00"} for day in range(5)]
# (daily cap, max open, weight, hours, on duty) per rep, in the order the demo creates them
PROFILES: list[tuple[int | None, int | None, float, list[dict[str, Any]], bool]] = [
    (30, 200, 1.5, WEEKDAYS_9_TO_6, True),
    (25, 150, 1.0, WEEKDAYS_9_TO_6, True),
    (20, 120, 1.0, [*WEEKDAYS_9_TO_6, {"weekday": 5, "start": "10:00", "end": "16:00"}], True),
    (0, 100, 1.0, WEEKDAYS_9_TO_6, True),  # a cap of zero: on the list as "receives nothing"
    (None, None, 2.0, [], True),  # always on duty, no caps
    (15, 80, 0.5, WEEKDAYS_9_TO_6, False),  # on leave
]


def demo_people_seed(
    *, tenant: Tenant, admin: User | None, manager: User, reps: list[User], owned_leads: list[tuple[int, str, int]],
    now: datetime,
) -> int:
    """Routing profiles for the reps and a few notifications for them, the manager and the
    admin. `owned_leads`: (lead id, lead name, owner id) of some assigned leads. Returns how
    many notifications were stored."""
    for rep, (cap, max_open, weight, hours, on_duty) in zip(reps, PROFILES, strict=False):
        routing_profile_set(tenant=tenant, user_id=rep.id, actor=admin, data={
            "on_duty": on_duty, "timezone": tenant.timezone, "working_hours": hours,
            "daily_receive_cap": cap, "max_open": max_open, "weight": weight,
        })
    notices: list[Notice] = []
    for lead_id, name, owner_id in owned_leads:
        url = reverse("leads:detail", kwargs={"tenant_slug": tenant.slug, "lead_id": lead_id})
        notices.append(Notice(
            recipient_id=owner_id, kind="lead.assigned", title=f"新线索分配给你：{name}",
            body="按分配规则分配，请在 24 小时内首次跟进。", url=url, data={"lead": lead_id},
            dedup_key=f"demo.assigned:{lead_id}",
        ))
    if owned_leads:
        lead_id, name, owner_id = owned_leads[0]
        url = reverse("leads:detail", kwargs={"tenant_slug": tenant.slug, "lead_id": lead_id})
        notices.append(Notice(
            recipient_id=owner_id, kind="sla.warning", title=f"跟进即将超时：{name}",
            body="距离跟进截止还有 2 小时，超时将收回到线索池。", url=url, data={"lead": lead_id},
            dedup_key=f"demo.warning:{lead_id}",
        ))
        notices.append(Notice(
            recipient_id=manager.id, kind="sla.violation", title=f"团队有线索超时未跟进：{name}",
            body="负责人未在期限内跟进，线索已收回到线索池。", url=url, data={"lead": lead_id},
            dedup_key=f"demo.violation:{lead_id}",
        ))
    pool = Pool.objects.filter(is_default=True).first()
    for recipient in [manager, *([admin] if admin else [])]:
        notices.append(Notice(
            recipient_id=recipient.id, kind="pool.no_eligible_rep", title="公海池暂无可分配的成员",
            body="3 条成熟线索在等待分配：当前在班的成员都已达到每日上限。",
            url=reverse("people:list", kwargs={"tenant_slug": tenant.slug}), data={"pool": pool.id if pool else None},
            dedup_key="demo.no_eligible_rep",
        ))
    stored = notify_many(tenant_id=tenant.id, notices=notices)
    # Spread them over the last hours, and leave the oldest read: a bell that was looked at.
    rows = list(Notification.objects.order_by("id").values_list("id", flat=True))
    for age, notification_id in enumerate(reversed(rows)):
        Notification.objects.filter(id=notification_id).update(
            created_at=now - timedelta(minutes=37 * age), read_at=now if age >= 6 else None,
        )
    return stored
