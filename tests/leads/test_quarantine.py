"""Working the quarantine: restore (the pipeline again, reasons waived), purge (personal data
gone, counts kept), and the list and counts the page and the API read."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.cleansing import BLACKLIST_KINDS, blacklist_reason
from leads.intake import lead_intake_many
from leads.masking import mask_digits, mask_email, payload_masked
from leads.models import CustomField, IntakeRecord, IntakeStatus, Lead, LeadSubmission
from leads.quarantine import (
    PURGE_ACTION,
    RESTORE_ACTION,
    IntakeRecordNotFound,
    IntakeRecordNotQuarantined,
    IntakeStillRejected,
    intake_record_purge,
    intake_record_purge_many,
    intake_record_restore,
)
from leads.quarantine_selectors import (
    InvalidIntakeCursor,
    intake_counts,
    intake_record_keyset_page,
    intake_record_list,
)
from leads.reasons import reason_filter_choices, reason_label, reason_matches
from tests.conftest import make_tenant
from tests.factories import lead_make, next_mobile
from tests.leads.test_concurrency import _run_together


def quarantine(created: CreatedTenant, payload: dict[str, Any], *, channel: str = "form", at: Any = None) -> IntakeRecord:
    """A submission the pipeline rejects, kept as an intake record."""
    with tenant_scope(created.tenant.id):
        (outcome,) = lead_intake_many(
            tenant=created.tenant, payloads=[payload], channel=channel, received_at=[at] if at else None
        )
    assert outcome.outcome == "quarantined" and outcome.intake_record is not None, outcome
    return outcome.intake_record


def fake_mobile_record(created: CreatedTenant, **extra: Any) -> IntakeRecord:
    return quarantine(created, {"name": "王芳", "mobile": "13800000000", "company": "云帆科技", **extra})


# --- restore ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_restore_creates_the_lead_links_the_record_and_audits_it(tenant_a):
    record = quarantine(tenant_a, {"name": "李雷", "email": "li.lei@yunfan-tech.cn", "notes": "需要发票，可以代开发票吗"})
    assert record.reasons == ["sensitive_word"]
    admin = tenant_a.owner.user
    with tenant_scope(tenant_a.tenant.id):
        restored = intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=admin)
        assert restored.outcome.outcome == "created"
        lead = Lead.objects.get()
        assert restored.outcome.lead is not None and restored.outcome.lead.id == lead.id
        assert lead.name == "李雷" and lead.email == "li.lei@yunfan-tech.cn" and lead.created_by_id == admin.id
        record.refresh_from_db()
        assert record.status == IntakeStatus.RESTORED and record.lead_id == lead.id
        assert record.restored_by_id == admin.id and record.restored_at is not None
        assert record.waived_reasons == ["sensitive_word"] and record.restore_outcome == "created"
        assert record.reasons == ["sensitive_word"]  # why it was stopped stays, for the counts
        # the lead is taken in now; the record keeps when the submission arrived
        assert lead.created_at >= record.created_at
        audit = AuditLog.objects.get(action=RESTORE_ACTION)
        assert audit.object_type == "intake_record" and audit.object_id == str(record.id)
        assert audit.actor_id == admin.id
        assert audit.changes == {
            "from": "quarantined", "to": "restored", "waived": ["sensitive_word"], "outcome": "created", "lead": lead.id,
        }
        assert IntakeRecord.objects.count() == 1  # the re-run made no second record


@pytest.mark.django_db
def test_restore_of_a_submission_whose_mobile_is_now_known_collects_it_into_that_lead(tenant_a):
    mobile = next_mobile()
    record = quarantine(tenant_a, {"name": "韩梅梅", "mobile": mobile, "notes": "博彩推广合作"})
    known = lead_make(tenant_a, name="韩梅梅", mobile=mobile)  # arrived through another channel since
    with tenant_scope(tenant_a.tenant.id):
        restored = intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert restored.outcome.outcome == "merged"
        assert Lead.objects.count() == 1
        record.refresh_from_db()
        assert record.lead_id == known.id and record.restore_outcome == "merged"
        submission = LeadSubmission.objects.get()
        assert submission.lead_id == known.id and submission.payload == record.payload


@pytest.mark.django_db
def test_restore_of_a_submission_with_a_known_external_id_updates_that_lead(tenant_a):
    existing = lead_make(tenant_a, name="旧名字", source="crm", external_id="C-77")
    record = quarantine(tenant_a, {"name": "新名字", "source": "crm", "external_id": "C-77", "notes": "刷单"})
    with tenant_scope(tenant_a.tenant.id):
        restored = intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert restored.outcome.outcome == "updated"
        existing.refresh_from_db()
        assert existing.name == "新名字"
        record.refresh_from_db()
        assert record.lead_id == existing.id and record.restore_outcome == "updated"


@pytest.mark.django_db
def test_restoring_twice_is_refused_and_makes_no_second_lead(tenant_a):
    record = fake_mobile_record(tenant_a, email="wang.fang@yunfan-tech.cn")
    with tenant_scope(tenant_a.tenant.id):
        intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        with pytest.raises(IntakeRecordNotQuarantined, match="already restored as lead"):
            intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert Lead.objects.count() == 1
        assert AuditLog.objects.filter(action=RESTORE_ACTION).count() == 1


@pytest.mark.django_db
def test_a_purged_record_cannot_be_restored(tenant_a):
    record = fake_mobile_record(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        intake_record_purge(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        with pytest.raises(IntakeRecordNotQuarantined, match="purged"):
            intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert not Lead.objects.exists()


@pytest.mark.django_db
def test_another_tenants_record_is_not_found(tenant_a, tenant_b):
    record = fake_mobile_record(tenant_b)
    with tenant_scope(tenant_a.tenant.id):
        with pytest.raises(IntakeRecordNotFound):
            intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        with pytest.raises(IntakeRecordNotFound):
            intake_record_purge(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert intake_record_purge_many(
            tenant=tenant_a.tenant, record_ids=[record.id], actor=tenant_a.owner.user
        ).skipped == [record.id]
    with tenant_scope(tenant_b.tenant.id):
        record.refresh_from_db()
        assert record.status == IntakeStatus.QUARANTINED and record.payload["name"] == "王芳"


@pytest.mark.django_db
def test_a_restore_that_would_be_quarantined_again_for_another_reason_changes_nothing(tenant_a):
    record = fake_mobile_record(tenant_a, notes="代开发票")
    assert record.reasons == ["invalid.mobile", "sensitive_word"]
    with tenant_scope(tenant_a.tenant.id):
        with pytest.raises(IntakeStillRejected) as rejected:
            intake_record_restore(
                tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user, waive=["invalid.mobile"]
            )
        assert rejected.value.reasons == ["sensitive_word"]
        assert "quarantined again for sensitive_word" in str(rejected.value)
        # nothing half-applied: no lead, no second record, no audit, the record as it was
        assert not Lead.objects.exists()
        assert list(IntakeRecord.objects.values_list("id", flat=True)) == [record.id]
        assert not AuditLog.objects.filter(action=RESTORE_ACTION).exists()
        record.refresh_from_db()
        assert record.status == IntakeStatus.QUARANTINED and record.lead_id is None and record.waived_reasons == []
        # waiving both restores it
        restored = intake_record_restore(
            tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user,
            waive=["invalid.mobile", "sensitive_word"],
        )
        assert restored.outcome.outcome == "created"


@pytest.mark.django_db
def test_a_restore_that_the_tenants_custom_fields_now_reject_changes_nothing(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        budget = CustomField.objects.create(tenant=tenant_a.tenant, key="budget", label="预算")
    record = quarantine(tenant_a, {"name": "张三", "mobile": next_mobile(), "notes": "刷单", "custom": {"budget": "十万"}})
    with tenant_scope(tenant_a.tenant.id):
        budget.field_type = "number"  # the admin made it a number since
        budget.save()
        with pytest.raises(IntakeStillRejected) as rejected:
            intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert rejected.value.reasons == [] and "custom.budget" in rejected.value.errors
        assert not Lead.objects.exists() and IntakeRecord.objects.count() == 1
        record.refresh_from_db()
        assert record.status == IntakeStatus.QUARANTINED


@pytest.mark.django_db
def test_waiving_an_unknown_reason_code_is_refused(tenant_a):
    record = fake_mobile_record(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        with pytest.raises(ValidationError) as error:
            intake_record_restore(
                tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user, waive=["invalid.mobil"]
            )
        assert "Unknown reason code 'invalid.mobil'" in error.value.message_dict["waive"][0]
        record.refresh_from_db()
        assert record.status == IntakeStatus.QUARANTINED and not Lead.objects.exists()


@pytest.mark.django_db
def test_waiving_nothing_restores_only_when_the_reasons_no_longer_apply(tenant_a):
    record = fake_mobile_record(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        with pytest.raises(IntakeStillRejected) as rejected:
            intake_record_restore(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user, waive=[])
        assert rejected.value.reasons == ["invalid.mobile"]


@pytest.mark.django_db(transaction=True)
def test_two_restores_of_one_record_at_once_make_one_lead():
    created = make_tenant("restore-race")
    record = quarantine(created, {"name": "赵敏", "mobile": next_mobile(), "notes": "高仿包"})
    results: list[str] = []

    def restore(racer: int, start: threading.Barrier) -> None:
        start.wait(timeout=30)
        with tenant_scope(created.tenant.id):
            try:
                restored = intake_record_restore(tenant=created.tenant, record_id=record.id, actor=created.owner.user)
                results.append(restored.outcome.outcome)
            except IntakeRecordNotQuarantined:
                results.append("refused")

    errors = _run_together(4, restore)
    assert not errors, errors
    assert sorted(results) == ["created", "refused", "refused", "refused"]
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == 1
        assert IntakeRecord.objects.get().lead_id == Lead.objects.get().id
        assert AuditLog.objects.filter(action=RESTORE_ACTION).count() == 1


# --- purge --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_drops_the_personal_data_and_keeps_the_counts(tenant_a):
    record = fake_mobile_record(tenant_a, email="wang.fang@yunfan-tech.cn")
    other = quarantine(tenant_a, {"name": "赵六"})
    with tenant_scope(tenant_a.tenant.id):
        before = intake_counts()
        purged = intake_record_purge(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)
        assert purged.status == IntakeStatus.PURGED and purged.payload == {}
        assert purged.purged_by_id == tenant_a.owner.user.id and purged.purged_at is not None
        assert purged.reasons == ["invalid.mobile"] and purged.channel == "form" and purged.created_at == record.created_at
        assert intake_counts() == before  # the counts feed the invalid-reason report
        audit = AuditLog.objects.get(action=PURGE_ACTION)
        assert audit.object_id == str(record.id) and audit.changes["reasons"] == ["invalid.mobile"]
        assert "王芳" not in str(audit.changes) and "13800000000" not in str(audit.changes)
        assert not intake_record_list(q="王芳").exists()  # nothing left to find
        other.refresh_from_db()
        assert other.status == IntakeStatus.QUARANTINED and other.payload == {"name": "赵六"}
        with pytest.raises(IntakeRecordNotQuarantined, match="purged"):
            intake_record_purge(tenant=tenant_a.tenant, record_id=record.id, actor=tenant_a.owner.user)


@pytest.mark.django_db
def test_purging_many_skips_restored_and_purged_records(tenant_a):
    first, second, restored, purged = (fake_mobile_record(tenant_a) for _ in range(4))
    with tenant_scope(tenant_a.tenant.id):
        intake_record_restore(tenant=tenant_a.tenant, record_id=restored.id, actor=None)
        intake_record_purge(tenant=tenant_a.tenant, record_id=purged.id, actor=None)
        result = intake_record_purge_many(
            tenant=tenant_a.tenant, record_ids=[first.id, second.id, restored.id, purged.id, 10**12], actor=None
        )
        assert result.purged == [first.id, second.id]
        assert result.skipped == sorted([restored.id, purged.id, 10**12])
        restored.refresh_from_db()
        assert restored.status == IntakeStatus.RESTORED and restored.payload["name"] == "王芳"
        assert AuditLog.objects.filter(action=PURGE_ACTION).count() == 3


@pytest.mark.django_db
def test_purging_more_than_a_batch_at_once_is_refused(tenant_a):
    with tenant_scope(tenant_a.tenant.id), pytest.raises(ValidationError):
        intake_record_purge_many(tenant=tenant_a.tenant, record_ids=range(1, 502), actor=None)


# --- the list and the counts ------------------------------------------------------------------


@pytest.fixture
def mixed_quarantine(tenant_a: CreatedTenant) -> dict[str, IntakeRecord]:
    now = timezone.now()
    return {
        "no_contact": quarantine(tenant_a, {"name": "钱七", "company": "星河传媒"}, channel="api", at=now - timedelta(days=40)),
        "fake_mobile": quarantine(tenant_a, {"name": "孙八", "mobile": "138 0000 0000"}, at=now - timedelta(days=10)),
        "bad_email": quarantine(tenant_a, {"name": "周九", "email": "zhou@@qq.com"}, channel="import", at=now - timedelta(days=5)),
        "both": quarantine(
            tenant_a, {"name": "吴十", "mobile": "12345678901", "notes": "赌博"}, channel="api", at=now - timedelta(days=1)
        ),
    }


@pytest.mark.django_db
def test_the_list_filters_by_reason_code_family_channel_status_time_and_text(tenant_a, mixed_quarantine):
    records = mixed_quarantine

    def ids(**filters: Any) -> list[int]:
        with tenant_scope(tenant_a.tenant.id):
            return list(intake_record_list(**filters).values_list("id", flat=True))

    assert ids() == [records[k].id for k in ("both", "bad_email", "fake_mobile", "no_contact")]  # newest first
    assert ids(reason="invalid.mobile") == [records["both"].id, records["fake_mobile"].id]
    assert ids(reason="invalid") == [records["both"].id, records["bad_email"].id, records["fake_mobile"].id]
    assert ids(reason="no_contact") == [records["no_contact"].id]
    assert ids(reason="no") == []  # a family is a whole dotted part, not any prefix
    assert ids(reason="sensitive_word", channel="api") == [records["both"].id]
    assert ids(channel="import") == [records["bad_email"].id]
    now = timezone.now()
    assert ids(created_after=now - timedelta(days=11), created_before=now - timedelta(days=2)) == [
        records["bad_email"].id, records["fake_mobile"].id,
    ]
    assert ids(q="孙八") == [records["fake_mobile"].id]
    assert ids(q="13800000000") == [records["fake_mobile"].id]  # as typed with spaces in the payload
    assert ids(q="0000 0000") == [records["fake_mobile"].id]
    assert ids(q="zhou@@") == [records["bad_email"].id]
    assert ids(q="星河") == [records["no_contact"].id]
    with tenant_scope(tenant_a.tenant.id):
        intake_record_restore(tenant=tenant_a.tenant, record_id=records["bad_email"].id, actor=None)
    assert ids(status="restored") == [records["bad_email"].id]
    assert ids(status="quarantined", reason="invalid") == [records["both"].id, records["fake_mobile"].id]


@pytest.mark.django_db
def test_counts_by_reason_and_channel_over_a_period(tenant_a, tenant_b, mixed_quarantine):
    quarantine(tenant_b, {"name": "别家"})  # another tenant's never counts
    with tenant_scope(tenant_a.tenant.id):
        counts = intake_counts()
        assert counts.total == 4
        assert counts.by_reason == {"invalid.mobile": 2, "invalid.email": 1, "no_contact": 1, "sensitive_word": 1}
        assert next(iter(counts.by_reason)) == "invalid.mobile"  # most frequent first
        assert counts.by_channel == {"api": 2, "form": 1, "import": 1}
        recent = intake_counts(since=timezone.now() - timedelta(days=7))
        assert recent.total == 2 and recent.by_reason == {"invalid.email": 1, "invalid.mobile": 1, "sensitive_word": 1}
        assert intake_counts(channel="api", until=timezone.now() - timedelta(days=2)).by_reason == {"no_contact": 1}
        assert intake_counts(status="purged").total == 0


@pytest.mark.django_db
def test_keyset_pages_walk_forward_and_back(tenant_a):
    now = timezone.now()
    records = [quarantine(tenant_a, {"name": f"客户{i}"}, at=now - timedelta(minutes=i)) for i in range(5)]
    with tenant_scope(tenant_a.tenant.id):
        qs = intake_record_list()
        first = intake_record_keyset_page(queryset=qs, page_size=2)
        assert [r.id for r in first.rows] == [records[0].id, records[1].id] and first.previous_cursor is None
        assert first.next_cursor is not None
        second = intake_record_keyset_page(queryset=qs, cursor=first.next_cursor, page_size=2)
        assert [r.id for r in second.rows] == [records[2].id, records[3].id]
        assert second.previous_cursor is not None
        back = intake_record_keyset_page(queryset=qs, cursor=second.previous_cursor, page_size=2)
        assert [r.id for r in back.rows] == [records[0].id, records[1].id]
        assert second.next_cursor is not None
        last = intake_record_keyset_page(queryset=qs, cursor=second.next_cursor, page_size=2)
        assert [r.id for r in last.rows] == [records[4].id] and last.next_cursor is None
        with pytest.raises(InvalidIntakeCursor):
            intake_record_keyset_page(queryset=qs, cursor="not-a-cursor")


# --- reasons and masking (pure) -----------------------------------------------------------------

INTAKE_REASON_CODES = [
    *(blacklist_reason(kind) for kind in BLACKLIST_KINDS), "no_contact", "invalid.mobile", "invalid.phone",
    "invalid.email", "sensitive_word",
]


def test_every_reason_code_has_a_label_and_unknown_codes_show_as_they_are():
    with translation.override("zh-hans"):
        assert reason_label("blacklist.phone") == "黑名单：手机号"
        assert reason_label("no_contact") == "无联系方式"
    with translation.override("en"):
        assert reason_label("blacklist.email_domain") == "Blacklisted e-mail domain"
    assert all(reason_label(code) != code for code in INTAKE_REASON_CODES)  # every code intake produces
    assert reason_label("something.new") == "something.new"
    assert reason_matches("blacklist.phone", "blacklist") and not reason_matches("blacklisted", "blacklist")
    codes = [code for code, _ in reason_filter_choices(["something.new"])]
    assert codes[:2] == ["blacklist", "invalid"] and codes[-1] == "something.new"


def test_contact_details_are_masked_enough_to_recognise_not_to_reach():
    assert mask_digits("13812345678") == "138****5678"
    assert mask_digits("+86 138-1234-5678") == "+86 138-****-5678"
    assert mask_email("zhang.wei@163.com") == "z****@163.com"
    assert payload_masked({"name": "张伟", "mobile": "13812345678", "wechat": "zw_2024", "company": "华为"}) == {
        "name": "张伟", "mobile": "138****5678", "wechat": "z****4", "company": "华为",
    }

