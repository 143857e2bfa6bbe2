"""Becoming hot or mature: `score_crossings_announce` sends the signals once, after the score
writer's transaction commits (never on rollback), and scoring's receivers put the moment on
the lead's timeline in words (zh/en), once per score write."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import BECAME_HOT_ACTION, BECAME_MATURE_ACTION, Lead
from scoring.signals import lead_became_hot, lead_became_mature, score_crossings_announce
from tests.factories import lead_make


@pytest.fixture
def heard() -> Iterator[list[tuple[str, int, list[int]]]]:
    calls: list[tuple[str, int, list[int]]] = []

    def on_hot(sender, *, tenant_id, lead_ids, **kwargs):
        calls.append(("hot", tenant_id, lead_ids))

    def on_mature(sender, *, tenant_id, lead_ids, **kwargs):
        calls.append(("mature", tenant_id, lead_ids))

    lead_became_hot.connect(on_hot, dispatch_uid="test.on_hot")
    lead_became_mature.connect(on_mature, dispatch_uid="test.on_mature")
    yield calls
    lead_became_hot.disconnect(dispatch_uid="test.on_hot")
    lead_became_mature.disconnect(dispatch_uid="test.on_mature")


def make_hot(created, lead: Lead, *, at=None) -> None:
    with tenant_scope(created.tenant.id):
        Lead.objects.filter(id=lead.id).update(
            score_total=86, tier="hot", is_mature=True, grade="A", level=1, scored_at=at or timezone.now()
        )


def crossing_rows(created, lead: Lead) -> list[str]:
    with tenant_scope(created.tenant.id):
        return list(
            AuditLog.objects.filter(object_type="lead", object_id=str(lead.id), action__startswith="lead.became_")
            .order_by("id").values_list("action", flat=True)
        )


@pytest.mark.django_db(transaction=True)
def test_a_crossing_announced_in_a_transaction_is_sent_once_after_commit(tenant_a, heard):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):  # a score writer's transaction
        Lead.objects.filter(id=lead.id).update(score_total=86, tier="hot", is_mature=True, scored_at=timezone.now())
        score_crossings_announce(tenant_id=tenant_a.tenant.id, mature_ids=[lead.id], hot_ids=[lead.id])
        assert heard == []  # nothing before the commit
    assert heard == [("mature", tenant_a.tenant.id, [lead.id]), ("hot", tenant_a.tenant.id, [lead.id])]
    assert crossing_rows(tenant_a, lead) == [BECAME_MATURE_ACTION, BECAME_HOT_ACTION]


@pytest.mark.django_db(transaction=True)
def test_a_crossing_announced_in_a_rolled_back_transaction_is_never_sent(tenant_a, heard):
    lead = lead_make(tenant_a)
    with pytest.raises(RuntimeError), tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(score_total=86, tier="hot", is_mature=True, scored_at=timezone.now())
        score_crossings_announce(tenant_id=tenant_a.tenant.id, mature_ids=[lead.id], hot_ids=[lead.id])
        raise RuntimeError("the score write failed")
    with transaction.atomic():
        pass  # a later commit does not send it either
    assert heard == []
    assert crossing_rows(tenant_a, lead) == []


@pytest.mark.django_db
def test_a_repeated_signal_for_the_same_score_writes_one_row(tenant_a):
    lead = lead_make(tenant_a)
    make_hot(tenant_a, lead)
    for _ in range(2):  # a retried task announces again
        lead_became_hot.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    assert crossing_rows(tenant_a, lead) == [BECAME_HOT_ACTION]
    make_hot(tenant_a, lead, at=timezone.now() + timedelta(minutes=5))  # cooled and hot again: a new write
    lead_became_hot.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    assert crossing_rows(tenant_a, lead) == [BECAME_HOT_ACTION, BECAME_HOT_ACTION]


@pytest.mark.django_db
def test_a_late_signal_for_a_lead_no_longer_hot_writes_nothing(tenant_a, tenant_b):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(tier="warm", is_mature=False, scored_at=timezone.now())
    lead_became_hot.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    lead_became_mature.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    assert crossing_rows(tenant_a, lead) == []
    foreign = lead_make(tenant_b)
    make_hot(tenant_b, foreign)
    lead_became_hot.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[foreign.id])  # the wrong tenant's id
    assert crossing_rows(tenant_b, foreign) == []


@pytest.mark.django_db
def test_the_lead_page_shows_the_crossings_in_words(client, tenant_a):
    lead = lead_make(tenant_a)
    make_hot(tenant_a, lead)
    lead_became_mature.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    lead_became_hot.send(sender=None, tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    client.force_login(tenant_a.owner.user)
    url = f"/{tenant_a.tenant.slug}/leads/{lead.id}"
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "评分升为热线索" in zh and "评分达到及格线，可以交给销售跟进" in zh and "总分 86 · 分组 A1" in zh
    assert "lead.became" not in zh
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Score became hot" in en and "Score reached the maturity threshold" in en and "Total 86 · group A1" in en
