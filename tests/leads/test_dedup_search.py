"""The duplicate search tool (查重): the selector (each criterion, inputs as people type them,
fuzzy companies, masking for reps, the cap) and asking an owner for a lead (audited, e-mailed
once, refused clearly)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from leadcrm.tenancy.models import AuditLog, Membership, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, tenant_settings_update
from leads.dedup_search import (
    TRANSFER_REQUESTS_PER_DAY,
    TransferRequestAlreadyOwner,
    TransferRequestNoOwner,
    TransferRequestNotAllowed,
    TransferRequestNotFound,
    TransferRequestOwnerGone,
    TransferRequestRateLimited,
    duplicate_search,
    lead_company_matches,
    lead_transfer_request,
)
from leads.models import TRANSFER_REQUEST_ACTION, Lead
from tests.conftest import add_member, as_owner, make_tenant
from tests.factories import lead_make
from tests.leads.test_concurrency import _run_together

pytestmark = pytest.mark.django_db

FENYANG = "北京纷扬科技有限公司"


@dataclass
class Book:
    created: CreatedTenant
    rep1: Membership  # 张伟, owns the showcase lead
    rep2: Membership  # 李娜
    manager: Membership
    read_only: Membership
    showcase: Lead  # 林晓峰 at 北京纷扬科技有限公司
    traditional: Lead  # the same company written in Traditional characters, another contact
    other_brand: Lead  # 北京纷享: one character away, another company
    pooled: Lead  # no owner


def book_make(created: CreatedTenant) -> Book:
    rep1 = add_member(created, "zhang.wei@yunfan.test", Role.REP, "张伟")
    rep2 = add_member(created, "li.na@yunfan.test", Role.REP, "李娜")
    manager = add_member(created, "manager@yunfan.test", Role.MANAGER, "王经理")
    read_only = add_member(created, "viewer@yunfan.test", Role.READ_ONLY, "赵看看")
    showcase = lead_make(
        created, name="林晓峰", company=FENYANG, mobile="13912340586", email="lin.xiaofeng@fenyang.com.cn",
        wechat="lin_xf2024", owner_id=rep1.user_id,
    )
    traditional = lead_make(created, name="陳志明", company="北京紛揚科技有限公司", owner_id=rep1.user_id)
    other_brand = lead_make(created, name="王芳", company="北京纷享科技有限公司", owner_id=rep2.user_id)
    pooled = lead_make(created, name="赵敏", company="纷扬科技（北京）有限公司")
    return Book(created, rep1, rep2, manager, read_only, showcase, traditional, other_brand, pooled)


@pytest.fixture
def book(tenant_a: CreatedTenant) -> Book:
    return book_make(tenant_a)


def search(book: Book, membership: Membership | None = None, **criteria: Any) -> Any:
    with tenant_scope(book.created.tenant.id):
        return duplicate_search(membership=membership, **criteria)


def found(book: Book, membership: Membership | None = None, **criteria: Any) -> dict[int, tuple[str, str]]:
    return {m.lead.id: (m.field, m.kind) for m in search(book, membership, **criteria).matches}


def errors_of(book: Book, **criteria: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        search(book, **criteria)
    return raised.value.message_dict


# --- each criterion, typed as people type it ----------------------------------------------------


@pytest.mark.parametrize("typed", ["13912340586", "139 1234 0586", "+86 139-1234-0586", "(+86)13912340586", "１３９１２３４０５８６"])
def test_a_mobile_is_found_however_it_is_typed(book, typed):
    assert found(book, mobile=typed) == {book.showcase.id: ("mobile", "exact")}


@pytest.mark.parametrize("typed", ["lin.xiaofeng@fenyang.com.cn", " Lin.XiaoFeng@Fenyang.COM.cn ", "林晓峰 <lin.xiaofeng@fenyang.com.cn>", "lin.xiaofeng＠fenyang.com.cn"])
def test_an_email_is_found_as_typed(book, typed):
    assert found(book, email=typed) == {book.showcase.id: ("email", "exact")}


def test_a_wechat_id_is_found_exactly(book):
    assert found(book, wechat="lin_xf2024") == {book.showcase.id: ("wechat", "exact")}
    assert found(book, wechat="ｌｉｎ＿ｘｆ２０２４") == {book.showcase.id: ("wechat", "exact")}  # full-width
    assert found(book, wechat="lin_xf") == {}


@pytest.mark.parametrize("typed", ["北京纷扬", "纷扬科技", "北京紛揚", FENYANG, "纷扬科技（北京）有限公司", "北京市纷扬科技有限公司", "ＢＥＩＪＩＮＧ纷扬"])
def test_a_company_is_found_by_its_short_traditional_and_full_forms(book, typed):
    assert set(found(book, company=typed)) == {book.showcase.id, book.traditional.id, book.pooled.id}


def test_common_criteria_read_along_the_newest_leads_find_the_same(book, monkeypatch):
    through_index = search(book, company="纷扬", name="林晓峰").matches
    monkeypatch.setattr("leads.dedup_search.WALK_ESTIMATE", 0)  # as if every match were common
    walked = search(book, company="纷扬", name="林晓峰").matches
    assert [(m.lead.id, m.kind) for m in walked] == [(m.lead.id, m.kind) for m in through_index]
    assert len(walked) == 3


def test_one_character_of_the_brand_apart_is_another_company(book):
    assert found(book, company="北京纷享") == {book.other_brand.id: ("company", "fuzzy")}
    assert book.showcase.id not in found(book, company="北京纷享科技")


def test_company_and_name_mark_the_same_contact(book):
    assert found(book, company="纷扬", name="林晓峰先生") == {
        book.showcase.id: ("company", "fuzzy_with_name"),
        book.traditional.id: ("company", "fuzzy"),
        book.pooled.id: ("company", "fuzzy"),
    }


@pytest.mark.parametrize("typed", ["林晓峰", "林 晓峰", "林曉峰", "林晓峰先生"])
def test_a_name_alone_finds_that_contact(book, typed):
    assert found(book, name=typed) == {book.showcase.id: ("name", "exact")}


def test_a_lead_found_several_ways_is_listed_once_by_its_surest_match(book):
    result = search(book, mobile="13912340586", company="纷扬科技", name="林晓峰")
    kinds = {m.lead.id: (m.field, m.kind) for m in result.matches}
    assert kinds[book.showcase.id] == ("mobile", "exact")
    assert len(result.matches) == len(kinds) == 3


def test_results_are_newest_first(book):
    ids = [m.lead.id for m in search(book, company="北京纷扬").matches]
    assert ids == [book.pooled.id, book.traditional.id, book.showcase.id]


# --- bad input ----------------------------------------------------------------------------------


def test_at_least_one_criterion_is_required(book):
    assert list(errors_of(book)) == ["__all__"]
    assert list(errors_of(book, mobile="  ", company="")) == ["__all__"]


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "010-8888 1234"}, "mobile"),  # a landline is not a mobile
        ({"mobile": "not a number"}, "mobile"),
        ({"email": "zhang@@163.com"}, "email"),
        ({"email": "lin.xiaofeng"}, "email"),
        ({"wechat": "lin xf"}, "wechat"),
        ({"company": "个人"}, "company"),  # what people type when there is no company
        ({"company": "纷"}, "company"),  # one character is no name
        ({"name": "林"}, "name"),  # alone, one character says too little
        ({"company": "纷" * 201}, "company"),
    ],
)
def test_bad_input_names_its_field_and_finds_nothing(book, criteria, field):
    assert list(errors_of(book, **criteria)) == [field]


def test_errors_read_in_the_callers_language(book):
    with translation.override("en"):
        assert errors_of(book, mobile="12345")["mobile"] == [
            "This is not a valid mobile number. Check it and try again (e.g. 139 1234 5678)."
        ]
    assert "手机号" in errors_of(book, mobile="12345")["mobile"][0]


# --- who sees what ------------------------------------------------------------------------------


def test_a_rep_is_told_of_another_reps_lead_with_contacts_masked_and_the_owner_named(book):
    (match,) = search(book, book.rep2, mobile="13912340586").matches
    assert match.is_visible is False
    assert match.owner_name == "张伟"
    assert match.mobile == "+86139****0586" and match.mobile_display == "139****0586"
    assert match.email == "l****@fenyang.com.cn"
    assert match.wechat == "l****4"
    assert match.lead.name == "林晓峰" and match.lead.company == FENYANG  # what was searched for


def test_the_owner_a_manager_and_an_api_key_see_the_lead_in_full(book):
    for membership in (book.rep1, book.manager, None):
        (match,) = search(book, membership, mobile="13912340586").matches
        assert match.is_visible is True
        assert match.mobile == "+8613912340586" and match.mobile_display == "139 1234 0586"
        assert match.email == "lin.xiaofeng@fenyang.com.cn" and match.wechat == "lin_xf2024"


def test_a_lead_in_a_pool_has_no_owner_name(book):
    by_id = {m.lead.id: m for m in search(book, book.rep2, company="纷扬").matches}
    assert by_id[book.pooled.id].owner_name == "" and by_id[book.pooled.id].is_visible is False


def test_another_tenants_leads_are_never_found(book, tenant_b):
    theirs = lead_make(tenant_b, name="林晓峰", company=FENYANG, mobile="13912340586", email="lin.xiaofeng@fenyang.com.cn")
    criteria: list[dict[str, Any]] = [
        {"mobile": "13912340586"}, {"email": "lin.xiaofeng@fenyang.com.cn"}, {"company": "纷扬"}, {"name": "林晓峰"}
    ]
    for criterion in criteria:
        assert theirs.id not in found(book, **criterion)
    with tenant_scope(tenant_b.tenant.id):
        assert [m.lead.id for m in duplicate_search(membership=None, mobile="13912340586").matches] == [theirs.id]


# --- the caps -----------------------------------------------------------------------------------


def test_more_matches_than_the_limit_are_counted(book):
    for n in range(4):
        lead_make(book.created, name=f"客户{n}号", company=f"纷扬网络科技（{n}部）")
    result = search(book, company="纷扬科技", limit=3)
    assert len(result.matches) == 3 and result.more_count == 4 and result.has_more
    assert result.is_truncated is False


def test_a_criterion_with_more_candidates_than_the_cap_says_the_answer_may_be_incomplete(book):
    with tenant_scope(book.created.tenant.id):
        capped = lead_company_matches(company="北京纷扬", cap=2)
        whole = lead_company_matches(company="北京纷扬")
    assert capped.is_capped and len(capped.leads) <= 2
    assert not whole.is_capped and {lead.id for lead in whole.leads} == {book.showcase.id, book.traditional.id, book.pooled.id}
    result = search(book, company="北京纷扬", cap=2)
    assert result.is_truncated and result.has_more


def test_the_search_reads_a_bounded_number_of_queries(book):
    with tenant_scope(book.created.tenant.id), CaptureQueriesContext(connection) as queries:
        duplicate_search(membership=book.rep2, mobile="13912340586", email="x@qq.com", wechat="wx", company="纷扬", name="林晓峰")
    # three exact look-ups, the company's estimate and its ids and rows, owner names, pool names
    # (every lead is in a pool since intake places it)
    assert len(queries) <= 9, [q["sql"][:80] for q in queries]


# --- asking the owner for a lead ----------------------------------------------------------------


def ask(book: Book, lead: Lead, by: Membership, message: str = "", **kwargs: Any) -> Any:
    with tenant_scope(book.created.tenant.id):
        return lead_transfer_request(
            tenant=book.created.tenant, lead_id=lead.id, requested_by=by.user, message=message, **kwargs
        )


def requests_on(book: Book, lead: Lead) -> list[AuditLog]:
    with tenant_scope(book.created.tenant.id):
        return list(AuditLog.objects.filter(action=TRANSFER_REQUEST_ACTION, object_type="lead", object_id=str(lead.id)))


def test_a_request_is_audited_on_the_lead_and_emailed_to_the_owner_once_committed(
    book, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        requested = ask(book, book.showcase, book.rep2, "  客户今天主动打电话给我 ", lead_url="https://crm.example.com/x/leads/1")
    assert mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert requested.is_repeat is False and requested.owner_name == "张伟" and requested.owner_id == book.rep1.user_id
    (entry,) = requests_on(book, book.showcase)
    assert entry.actor_id == book.rep2.user_id
    assert entry.changes == {"owner": book.rep1.user_id, "message": "客户今天主动打电话给我"}
    (email,) = mail.outbox
    assert email.to == ["zhang.wei@yunfan.test"] and email.reply_to == ["li.na@yunfan.test"]
    assert email.subject == "[LeadCRM] 李娜 请求接手你的线索：林晓峰 · 北京纷扬科技有限公司"
    assert "客户今天主动打电话给我" in email.body and "https://crm.example.com/x/leads/1" in email.body
    assert email.body.startswith("张伟，你好")


def test_the_email_speaks_the_owners_team_language(book, django_capture_on_commit_callbacks):
    tenant_settings_update(tenant=book.created.tenant, actor=None, locale="en")
    book.created.tenant.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ask(book, book.showcase, book.rep2)
    (email,) = mail.outbox
    assert email.subject == "[LeadCRM] 李娜 asks to take over your lead: 林晓峰 · 北京纷扬科技有限公司"
    assert email.body.startswith("Hello 张伟,")


def test_asking_again_within_a_day_changes_nothing_and_sends_no_second_email(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = ask(book, book.showcase, book.rep2, "第一次")
    with django_capture_on_commit_callbacks(execute=True):
        again = ask(book, book.showcase, book.rep2, "第二次")
    assert again.is_repeat is True and again.requested_at == first.requested_at
    assert len(requests_on(book, book.showcase)) == 1 and len(mail.outbox) == 1
    # a day later it may be asked again
    with tenant_scope(book.created.tenant.id):
        AuditLog.objects.filter(action=TRANSFER_REQUEST_ACTION).update(created_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(book, book.showcase, book.rep2).is_repeat is False
    assert len(requests_on(book, book.showcase)) == 2 and len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("lead_attr", "member_attr", "refusal", "words"),
    [
        ("showcase", "rep1", TransferRequestAlreadyOwner, "已经由你负责"),
        ("pooled", "rep2", TransferRequestNoOwner, "请到线索池领取"),
        ("showcase", "read_only", TransferRequestNotAllowed, "只读"),
    ],
)
def test_refusals_say_why_and_record_nothing(book, django_capture_on_commit_callbacks, lead_attr, member_attr, refusal, words):
    lead = getattr(book, lead_attr)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(refusal) as raised:
        ask(book, lead, getattr(book, member_attr))
    assert words in str(raised.value.message)
    assert requests_on(book, lead) == [] and mail.outbox == []


def test_a_lead_whose_owner_left_the_team_is_refused(book):
    with tenant_scope(book.created.tenant.id):
        Membership.objects.filter(id=book.rep1.id).update(is_active=False)
    with pytest.raises(TransferRequestOwnerGone):
        ask(book, book.showcase, book.rep2)


def test_the_pool_refusal_reads_in_english_too(book):
    with translation.override("en"):
        with pytest.raises(TransferRequestNoOwner) as raised:
            ask(book, book.pooled, book.rep2)
        assert str(raised.value.message) == "This lead is in a pool and has no owner: claim it from the pool."


def test_another_tenants_lead_cannot_be_asked_for(book, tenant_b):
    theirs = lead_make(tenant_b, name="林晓峰", company=FENYANG)
    with pytest.raises(TransferRequestNotFound):
        ask(book, theirs, book.rep2)


def test_a_message_longer_than_allowed_is_refused(book):
    with pytest.raises(ValidationError) as raised:
        ask(book, book.showcase, book.rep2, "长" * 501)
    assert list(raised.value.message_dict) == ["message"]
    assert requests_on(book, book.showcase) == []


def test_requests_are_limited_per_person_and_day(book, django_capture_on_commit_callbacks):
    leads = [lead_make(book.created, name=f"客户{n}", owner_id=book.rep1.user_id) for n in range(TRANSFER_REQUESTS_PER_DAY + 1)]
    with django_capture_on_commit_callbacks(execute=True):
        for lead in leads[:-1]:
            ask(book, lead, book.rep2)
        with pytest.raises(TransferRequestRateLimited) as raised:
            ask(book, leads[-1], book.rep2)
    assert timedelta(hours=23) < raised.value.retry_after <= timedelta(hours=24)
    assert requests_on(book, leads[-1]) == [] and len(mail.outbox) == TRANSFER_REQUESTS_PER_DAY
    # a repeat of an earlier request is still answered, and someone else may still ask
    assert ask(book, leads[0], book.rep2).is_repeat is True
    assert ask(book, leads[-1], book.manager).is_repeat is False


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_make_one_request_and_one_email():
    created = make_tenant("race-ask")
    book = book_make(created)
    outcomes: list[bool] = []

    def click(n: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        outcomes.append(ask(book, book.showcase, book.rep2, f"点击 {n}").is_repeat)

    assert _run_together(4, click) == []
    assert sorted(outcomes) == [False, True, True, True]
    assert len(requests_on(book, book.showcase)) == 1 and len(mail.outbox) == 1


def test_a_request_shows_on_the_leads_timeline_to_those_who_may_see_it(book, client):
    ask(book, book.showcase, book.rep2, "客户主动联系了我")
    client.force_login(book.rep1.user)
    html = client.get(f"/{book.created.tenant.slug}/leads/{book.showcase.id}").content.decode()
    assert "李娜 请求接手这条线索" in html and "留言：客户主动联系了我" in html
    client.force_login(book.rep2.user)  # the requester still may not open the lead
    assert client.get(f"/{book.created.tenant.slug}/leads/{book.showcase.id}").status_code == 404


def test_a_two_character_brand_is_read_through_the_brand_index_under_row_level_security(book):
    # The company look-up reads intake's (tenant, company_brand, name_key) index: exact brand
    # ranges, never a walk of the tenant's created-at index (under RLS only LEAKPROOF operators
    # may enter an index; the brand comparisons are plain text ones). So that
    # the test table's few rows and whatever statistics it has do not decide, the other ways in
    # are taken away for this transaction (dropped by the owner, back at the rollback): what is
    # left is a bitmap of the indexes the look-up's conditions can use, or a sequential scan.
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead' AND indexname NOT LIKE 'lead_search_%' "
            "AND indexname <> 'lead_tenant_brand_name_idx' "  # the brand index: the candidates' way in
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
    with tenant_scope(book.created.tenant.id):
        with CaptureQueriesContext(connection) as queries:
            lead_company_matches(company="北京纷扬科技")
        (sql,) = [q["sql"] for q in queries if q["sql"].startswith("WITH hits")]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET LOCAL enable_seqscan = on")
    assert "lead_tenant_brand_name_idx" in plan, plan
