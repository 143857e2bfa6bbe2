"""The intake pipeline's shape: named stages every channel runs, hooks other apps plug into,
custom fields checked for every channel, audit rows that name their own lead."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.intake import (
    STAGES,
    IntakeCommitted,
    IntakePersisted,
    intake_hook_register,
    lead_intake_many,
)
from leads.intake.config import intake_config_probe_register, intake_config_probe_unregister
from leads.intake.hooks import IntakePersisting, intake_hook_unregister
from leads.models import CustomField, IntakeRecord, Lead, OwnerChangeReason
from leads.services import OwnerChange, lead_owner_change_many
from tests.conftest import add_member
from tests.factories import lead_make, next_mobile

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_stages_run_in_order():
    assert [name for name, _ in STAGES] == ["normalise", "validate", "cleanse", "dedup", "persist"]


def test_hooks_see_what_intake_did_inside_the_transaction_and_after_commit(tenant_a):
    known = lead_make(tenant_a, name="老客户")
    persisted: list[IntakePersisted] = []
    committed: list[IntakeCommitted] = []

    def on_persisted(event: IntakePersisted) -> None:
        # inside the transaction: the new leads are there and have ids
        assert all(Lead.objects.filter(id=lead.id).exists() for lead in event.created)
        persisted.append(event)

    intake_hook_register(name="test.persisted", when="persisted", hook=on_persisted)
    intake_hook_register(name="test.committed", when="committed", hook=committed.append)
    try:
        with tenant_scope(tenant_a.tenant.id):
            outcomes = lead_intake_many(tenant=tenant_a.tenant, channel="form", payloads=[
                {"name": "新客户", "mobile": next_mobile()},
                {"name": "老客户", "mobile": known.mobile},
                {"name": "没有联系方式"},
            ])
            assert committed == []  # not before the commit
        assert [o.outcome for o in outcomes] == ["created", "merged", "quarantined"]
        created, record = outcomes[0].lead, outcomes[2].intake_record
        assert created is not None and record is not None
        assert len(persisted) == 1 and [lead.id for lead in persisted[0].created] == [created.id]
        assert [lead.id for lead in persisted[0].merged_into] == [known.id]
        (event,) = committed
        assert event.tenant_id == tenant_a.tenant.id and event.channel == "form"
        assert event.created_ids == [created.id] and event.merged_into_ids == [known.id]
        assert event.quarantined_ids == [record.id]
    finally:
        intake_hook_unregister(name="test.persisted")
        intake_hook_unregister(name="test.committed")


def test_a_persisting_hook_sets_fields_that_are_written_with_the_lead_and_reads_the_probes(tenant_a):
    known = lead_make(tenant_a, name="老客户", external_id="crm-1", source="crm")
    seen: list[IntakePersisting] = []

    def tag_before_insert(event: IntakePersisting) -> None:
        assert all(lead.pk is None for lead in event.created)  # not written yet
        for lead in [*event.created, *event.updated]:
            lead.tags = [*lead.tags, "hooked"]
        seen.append(event)

    intake_config_probe_register(name="test.answer", sql="SELECT 41 + %(tenant_id)s - %(tenant_id)s + 1")
    intake_hook_register(name="test.persisting", when="persisting", hook=tag_before_insert)
    try:
        with tenant_scope(tenant_a.tenant.id), CaptureQueriesContext(connection) as queries:
            outcomes = lead_intake_many(tenant=tenant_a.tenant, channel="api", payloads=[
                {"name": "新客户", "mobile": next_mobile()},
                {"name": "老客户改名", "source": "crm", "external_id": "crm-1", "mobile": known.mobile},
            ])
    finally:
        intake_hook_unregister(name="test.persisting")
        intake_config_probe_unregister(name="test.answer")
    assert [o.outcome for o in outcomes] == ["created", "updated"]
    (event,) = seen
    assert event.config["test.answer"] == 42
    # every app's configuration in one statement
    probes = [q["sql"] for q in queries.captured_queries if "leads_cleansingpolicy" in q["sql"]]
    assert len(probes) == 1 and "leads_dedupconfig" in probes[0] and "41 +" in probes[0]
    with tenant_scope(tenant_a.tenant.id):
        assert sorted(Lead.objects.values_list("name", "tags")) == [("新客户", ["hooked"]), ("老客户改名", ["hooked"])]
        assert Lead.objects.filter(id=known.id, name="老客户改名").exists()


def test_a_failing_in_transaction_hook_rolls_the_whole_intake_back(tenant_a):
    def broken(event: IntakePersisted) -> None:
        raise RuntimeError("scoring is broken")

    intake_hook_register(name="test.broken", when="persisted", hook=broken)
    try:
        with pytest.raises(RuntimeError), tenant_scope(tenant_a.tenant.id):
            lead_intake_many(tenant=tenant_a.tenant, channel="api", payloads=[{"mobile": next_mobile()}])
    finally:
        intake_hook_unregister(name="test.broken")
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()


def test_custom_fields_are_checked_for_every_channel_not_only_the_api(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        CustomField.objects.create(tenant=tenant_a.tenant, key="budget", label="预算", field_type="number")
        outcomes = lead_intake_many(tenant=tenant_a.tenant, channel="import", payloads=[
            {"mobile": next_mobile(), "custom": {"budget": "lots"}},
            {"mobile": next_mobile(), "custom": {"colour": "red"}},
            {"mobile": next_mobile(), "custom": {"budget": 5000}},
        ])
        assert [o.outcome for o in outcomes] == ["invalid", "invalid", "created"]
        assert outcomes[0].errors == {"custom.budget": ["Must be a number."]}
        assert "Unknown custom field 'colour'" in outcomes[1].errors["custom.colour"][0]
        assert Lead.objects.count() == 1 and not IntakeRecord.objects.exists()  # invalid is not quarantine


def test_a_required_custom_field_is_required_even_when_no_custom_object_is_sent(key_client, tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        CustomField.objects.create(tenant=tenant_a.tenant, key="budget", label="预算", field_type="number", is_required=True)
        outcomes = lead_intake_many(tenant=tenant_a.tenant, channel="import", payloads=[
            {"mobile": next_mobile()},
            {"mobile": next_mobile(), "custom": {"budget": 5000}},
        ])
    assert [o.outcome for o in outcomes] == ["invalid", "created"]
    assert outcomes[0].errors == {"custom.budget": ["This custom field is required."]}
    response = key_client.post("/api/v1/leads", {"name": "没填预算", "mobile": next_mobile()}, format="json")
    assert response.status_code == 400 and "custom.budget" in response.content.decode()  # API.md: a problem+json 400
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1


def test_owner_change_audits_name_their_own_lead(tenant_a):
    reps = [add_member(tenant_a, f"rep{i}@a.test", role=Role.REP) for i in range(3)]
    sources = [lead_make(tenant_a, name=f"客户{i}", company=f"公司{i}科技有限公司") for i in range(3)]
    with tenant_scope(tenant_a.tenant.id):
        lead_owner_change_many(tenant=tenant_a.tenant, reason=OwnerChangeReason.MANUAL, changes=[
            OwnerChange(lead_id=source.id, owner_id=rep.user_id) for source, rep in zip(sources, reps, strict=True)
        ])
        # the same people and companies again, with other contacts, in another order, with an
        # unrouted lead between them
        payloads = [
            {"name": "客户2", "company": "公司2科技有限公司", "email": "c2@kehu.cn"},
            {"name": "陌生人", "mobile": next_mobile()},
            {"name": "客户0", "company": "公司0科技有限公司", "email": "c0@kehu.cn"},
            {"name": "客户1", "company": "公司1科技有限公司", "email": "c1@kehu.cn"},
        ]
        outcomes = lead_intake_many(tenant=tenant_a.tenant, channel="api", payloads=payloads)
        for outcome in outcomes:
            assert outcome.lead is not None
            audit = AuditLog.objects.filter(action="lead.owner_change", object_id=str(outcome.lead.id)).first()
            if outcome.lead.duplicate_of_id is None:
                assert audit is None
                continue
            source = Lead.objects.get(id=outcome.lead.duplicate_of_id)
            assert audit is not None and audit.changes["to"] == source.owner_id == outcome.lead.owner_id
