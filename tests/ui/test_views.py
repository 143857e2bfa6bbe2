"""The workbench pages through Django's test client: log-in, tenant edge, rep visibility,
filters, sort, search, keyset pages, the htmx fragment, and English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leadcrm.tenancy.sessions import SESSION_TENANT_KEY
from leads.models import Lead, LeadSubmission
from leads.selectors import lead_keyset_page
from tests.conftest import PASSWORD, add_member, make_tenant
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def owner_user(created: CreatedTenant) -> User:
    return created.owner.user


@pytest.fixture
def owner_client(tenant_a: CreatedTenant) -> Client:
    client = Client()
    client.force_login(owner_user(tenant_a))
    return client


def list_url(created: CreatedTenant) -> str:
    return f"/{created.tenant.slug}/leads"


def detail_url(created: CreatedTenant, lead: Lead) -> str:
    return f"/{created.tenant.slug}/leads/{lead.id}"


def lead_ids_in(response: Any) -> list[int]:
    return [int(i) for i in re.findall(r'/leads/(\d+)"', response.content.decode())]


# --- log-in, log-out, landing ---------------------------------------------------------------


def test_anonymous_user_is_sent_to_login(tenant_a):
    response = Client().get(list_url(tenant_a))
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


def test_login_page_renders_in_chinese_by_default(db):
    response = Client().get("/login")
    assert response.status_code == 200
    assert "登录 LeadCRM" in response.content.decode()
    assert "工作邮箱" in response.content.decode()


def test_login_with_email_lands_on_the_tenants_lead_list(tenant_a):
    client = Client()
    response = client.post("/login", {"username": "OWNER@tenant-a.test", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == list_url(tenant_a)
    assert response.status_code == 200


def test_wrong_password_says_what_to_do(tenant_a):
    response = Client().post("/login", {"username": "owner@tenant-a.test", "password": "wrong-password"})
    assert response.status_code == 200
    assert "邮箱或密码不正确" in response.content.decode()


def test_repeated_wrong_passwords_lock_the_login(tenant_a):
    client = Client()
    for _ in range(5):
        client.post("/login", {"username": "owner@tenant-a.test", "password": "wrong-password"})
    response = client.post("/login", {"username": "owner@tenant-a.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()


def test_logout_is_post_only_and_ends_the_session(owner_client, tenant_a):
    assert owner_client.get("/logout").status_code == 405
    response = owner_client.post("/logout")
    assert response.status_code == 302
    assert owner_client.get(list_url(tenant_a)).status_code == 302


def test_user_without_tenant_gets_a_friendly_page(db):
    from leadcrm.tenancy.services import user_get_or_create

    client = Client()
    client.force_login(user_get_or_create(email="lonely@example.test", password=PASSWORD))
    response = client.get("/")
    assert response.status_code == 200
    assert "你还没有加入任何团队空间" in response.content.decode()


def test_home_redirects_to_the_session_tenant(tenant_a, tenant_b):
    user = owner_user(tenant_a)
    add_member(tenant_b, user.email, role=Role.MANAGER)
    client = Client()
    client.force_login(user)
    client.get(list_url(tenant_b))  # visiting a tenant makes it the active one
    assert client.session[SESSION_TENANT_KEY] == tenant_b.tenant.id
    assert client.get("/")["Location"] == list_url(tenant_b)


# --- tenant edge ----------------------------------------------------------------------------


def test_other_tenants_lead_is_404(owner_client, tenant_b):
    foreign = lead_make(tenant_b, name="别家客户")
    assert owner_client.get(f"/tenant-a/leads/{foreign.id}").status_code == 404
    assert owner_client.get(detail_url(tenant_b, foreign)).status_code == 404


def test_non_member_and_unknown_tenant_slugs_are_both_404(owner_client, tenant_b):
    member_response = owner_client.get(list_url(tenant_b))
    unknown_response = owner_client.get("/no-such-tenant/leads")
    assert member_response.status_code == unknown_response.status_code == 404


def test_tenant_switch_requires_membership(tenant_a, tenant_b):
    user = owner_user(tenant_a)
    client = Client()
    client.force_login(user)
    assert client.post("/switch-tenant", {"tenant_slug": "tenant-b"}).status_code == 404
    add_member(tenant_b, user.email, role=Role.MANAGER)
    response = client.post("/switch-tenant", {"tenant_slug": "tenant-b"})
    assert response["Location"] == list_url(tenant_b)
    assert client.session[SESSION_TENANT_KEY] == tenant_b.tenant.id


def test_switcher_lists_only_the_users_tenants(tenant_a, tenant_b):
    make_tenant("tenant-c")
    user = owner_user(tenant_a)
    add_member(tenant_b, user.email, role=Role.REP)
    client = Client()
    client.force_login(user)
    html = client.get(list_url(tenant_a)).content.decode()
    assert 'value="tenant-a"' in html and 'value="tenant-b"' in html
    assert "tenant-c" not in html


# --- reps -----------------------------------------------------------------------------------


def test_rep_sees_only_own_leads_and_404_for_others(tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", role=Role.REP, name="小王")
    other_rep = add_member(tenant_a, "rep2@tenant-a.test", role=Role.REP, name="小李")
    mine = lead_make(tenant_a, name="我的客户", owner_id=rep.user_id)
    theirs = lead_make(tenant_a, name="别人的客户", owner_id=other_rep.user_id)
    unassigned = lead_make(tenant_a, name="未分配客户")
    client = Client()
    client.force_login(rep.user)
    response = client.get(list_url(tenant_a))
    assert lead_ids_in(response) == [mine.id]
    assert client.get(detail_url(tenant_a, mine)).status_code == 200
    assert client.get(detail_url(tenant_a, theirs)).status_code == 404
    assert client.get(detail_url(tenant_a, unassigned)).status_code == 404


# --- list: filters, sort, search, pages -----------------------------------------------------


def test_filters_change_the_rows(owner_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", role=Role.REP, name="小王")
    hot = lead_make(tenant_a, name="热线索", tier="hot", grade="A", score_total=88, status="following", source="抖音")
    cold = lead_make(tenant_a, name="冷线索", tier="cold", grade="D", score_total=12, source="官网", owner_id=rep.user_id)
    url = list_url(tenant_a)
    assert lead_ids_in(owner_client.get(url, {"tier": "hot"})) == [hot.id]
    assert lead_ids_in(owner_client.get(url, {"status": "following"})) == [hot.id]
    assert lead_ids_in(owner_client.get(url, {"grade": "D"})) == [cold.id]
    assert lead_ids_in(owner_client.get(url, {"source": "官网"})) == [cold.id]
    assert lead_ids_in(owner_client.get(url, {"owner": str(rep.user_id)})) == [cold.id]
    assert lead_ids_in(owner_client.get(url, {"owner": "unassigned"})) == [hot.id]
    assert lead_ids_in(owner_client.get(url, {"min_score": "50"})) == [hot.id]
    assert lead_ids_in(owner_client.get(url, {"max_score": "50"})) == [cold.id]


def test_created_date_range_is_inclusive_in_the_tenants_time_zone(owner_client, tenant_a):
    import datetime as dt
    from zoneinfo import ZoneInfo

    lead = lead_make(tenant_a, name="日期客户")
    shanghai = dt.datetime(2025, 3, 1, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=lead.id).update(created_at=shanghai)
    url = list_url(tenant_a)
    assert lead_ids_in(owner_client.get(url, {"created_from": "2025-03-01", "created_to": "2025-03-01"})) == [lead.id]
    assert lead_ids_in(owner_client.get(url, {"created_from": "2025-03-02"})) == []


def test_bad_filter_values_explain_the_fix_and_keep_other_filters(owner_client, tenant_a):
    hot = lead_make(tenant_a, name="热线索", tier="hot", score_total=90)
    lead_make(tenant_a, name="冷线索", tier="cold")
    response = owner_client.get(list_url(tenant_a), {"tier": "hot", "min_score": "abc"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "最低分请填写 0–100 之间的数字" in html
    assert lead_ids_in(response) == [hot.id]
    swapped = owner_client.get(list_url(tenant_a), {"min_score": "80", "max_score": "20"}).content.decode()
    assert "最高分低于最低分，请调换两个数值" in swapped


def test_sorting_by_score_and_by_age(owner_client, tenant_a):
    low = lead_make(tenant_a, name="低分", score_total=10)
    high = lead_make(tenant_a, name="高分", score_total=95)
    middle = lead_make(tenant_a, name="中分", score_total=50)
    url = list_url(tenant_a)
    assert lead_ids_in(owner_client.get(url)) == [middle.id, high.id, low.id]
    assert lead_ids_in(owner_client.get(url, {"sort": "created_at"})) == [low.id, high.id, middle.id]
    assert lead_ids_in(owner_client.get(url, {"sort": "-score"})) == [high.id, middle.id, low.id]
    assert lead_ids_in(owner_client.get(url, {"sort": "score"})) == [low.id, middle.id, high.id]


def test_search_matches_name_company_and_mobile(owner_client, tenant_a):
    target = lead_make(tenant_a, name="张伟", company="北京纷扬科技有限公司", mobile="13912340586")
    lead_make(tenant_a, name="李娜", company="上海某某贸易")
    url = list_url(tenant_a)
    assert lead_ids_in(owner_client.get(url, {"q": "纷扬"})) == [target.id]
    assert lead_ids_in(owner_client.get(url, {"q": "张伟"})) == [target.id]
    assert lead_ids_in(owner_client.get(url, {"q": "12340586"})) == [target.id]
    empty = owner_client.get(url, {"q": "不存在的公司"}).content.decode()
    assert "没有符合条件的线索" in empty


def test_htmx_request_returns_only_the_table_fragment(owner_client, tenant_a):
    lead_make(tenant_a, name="片段客户")
    full = owner_client.get(list_url(tenant_a))
    fragment = owner_client.get(list_url(tenant_a), headers={"HX-Request": "true"})
    assert "<html" in full.content.decode()
    body = fragment.content.decode().strip()
    assert body.startswith('<section id="lead-table"') and "<html" not in body
    assert "片段客户" in body
    assert "HX-Request" in fragment["Vary"] and "HX-Request" in full["Vary"]
    restore = owner_client.get(
        list_url(tenant_a), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def test_keyset_pages_walk_forward_and_back_without_offset(owner_client, tenant_a):
    made = [lead_make(tenant_a, name=f"客户{i}") for i in range(5)]
    newest_first = [lead.id for lead in reversed(made)]
    with tenant_scope(tenant_a.tenant.id):
        ordering = ("-created_at", "-id")
        first = lead_keyset_page(queryset=Lead.objects.all(), ordering=ordering, page_size=2)
        assert first.next_cursor is not None
        second = lead_keyset_page(queryset=Lead.objects.all(), ordering=ordering, cursor=first.next_cursor, page_size=2)
        assert second.next_cursor is not None and second.previous_cursor is not None
        third = lead_keyset_page(queryset=Lead.objects.all(), ordering=ordering, cursor=second.next_cursor, page_size=2)
        back = lead_keyset_page(
            queryset=Lead.objects.all(), ordering=ordering, cursor=second.previous_cursor, page_size=2
        )
    assert [lead.id for lead in first.rows] == newest_first[:2] and first.previous_cursor is None
    assert [lead.id for lead in second.rows] == newest_first[2:4]
    assert [lead.id for lead in third.rows] == newest_first[4:] and third.next_cursor is None
    assert [lead.id for lead in back.rows] == newest_first[:2] and back.previous_cursor is None


def test_page_query_uses_keyset_shape_and_the_count_is_capped(owner_client, tenant_a, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):
        lead_make(tenant_a, name=f"客户{i}", tier="hot")
    first = owner_client.get(list_url(tenant_a), {"tier": "hot"})
    cursor = re.search(r'cursor=([\w-]+)"', first.content.decode())
    assert cursor is None  # three rows fit on one page
    with tenant_scope(tenant_a.tenant.id):
        page = lead_keyset_page(queryset=Lead.objects.filter(tier="hot"), ordering=("-created_at", "-id"), page_size=1)
    with CaptureQueriesContext(connection) as queries:
        owner_client.get(list_url(tenant_a), {"tier": "hot", "cursor": page.next_cursor})
    lead_sql = [q["sql"] for q in queries if 'FROM "leads_lead"' in q["sql"] and not q["sql"].startswith("EXPLAIN")]
    page_sql = [sql for sql in lead_sql if "count(" not in sql.lower()]
    count_sql = [sql for sql in lead_sql if "count(" in sql.lower()]
    assert len(page_sql) == 1 and len(count_sql) == 1
    sql = page_sql[0]
    assert '("leads_lead"."created_at", "leads_lead"."id") <' in sql
    assert 'ORDER BY "leads_lead"."created_at" DESC, "leads_lead"."id" DESC LIMIT 51' in sql
    assert "OFFSET" not in sql
    # The header's count never counts a whole tenant: at most 10,001 rows, under a time limit.
    assert "LIMIT 10001) AS capped" in count_sql[0] and "statement_timeout" in count_sql[0]
    assert "OFFSET" not in count_sql[0]


def test_tampered_cursor_falls_back_to_the_first_page_with_a_notice(owner_client, tenant_a):
    lead = lead_make(tenant_a, name="客户")
    response = owner_client.get(list_url(tenant_a), {"cursor": "not-a-cursor"})
    assert lead_ids_in(response) == [lead.id]
    assert "翻页链接已过期" in response.content.decode()


# --- detail ---------------------------------------------------------------------------------


def test_detail_shows_fields_score_duplicates_and_collected_submissions(owner_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", role=Role.REP, name="小王")
    source = lead_make(
        tenant_a, name="王芳", company="杭州云帆网络科技有限公司", title="市场总监", source="展会", owner_id=rep.user_id
    )
    duplicate = lead_make(tenant_a, name="王芳", company="杭州云帆网络科技有限公司")
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=duplicate.id).update(duplicate_of_id=source.id, tags=["疑似重复"])
        LeadSubmission.objects.create(
            tenant=tenant_a.tenant, lead=source, channel="form", rule="same_mobile", payload={"name": "王芳"}
        )
    html = owner_client.get(detail_url(tenant_a, source)).content.decode()
    for text in ("王芳", "杭州云帆网络科技有限公司", "市场总监", "展会", "小王", "线索评分", "D3", "待处理"):
        assert text in html, text
    assert "归集的提交" in html and "网页表单" in html and "手机号相同" in html
    assert f"/leads/{duplicate.id}" in html  # listed as a duplicate of this lead
    assert "线索创建" in html and "再次提交，已归集到本线索" in html
    dup_html = owner_client.get(detail_url(tenant_a, duplicate)).content.decode()
    assert "疑似重复于" in dup_html and f"/leads/{source.id}" in dup_html and "疑似重复" in dup_html


def test_detail_url_with_trailing_slash_works(owner_client, tenant_a):
    lead = lead_make(tenant_a, name="客户")
    assert owner_client.get(detail_url(tenant_a, lead) + "/").status_code == 200
    assert owner_client.get(list_url(tenant_a) + "/").status_code == 200


# --- language -------------------------------------------------------------------------------


def test_language_switch_renders_english(owner_client, tenant_a):
    lead_make(tenant_a, name="客户", tier="hot", status="following")
    response = owner_client.post("/i18n/setlang/", {"language": "en", "next": list_url(tenant_a)})
    assert response.status_code == 302 and response["Location"] == list_url(tenant_a)
    html = owner_client.get(list_url(tenant_a)).content.decode()
    assert '<html lang="en">' in html
    for text in ("Leads", "Search", "Following", "Hot", "50 per page", "Sign out"):
        assert text in html, text
    assert "跟进中" not in html
    owner_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "跟进中" in owner_client.get(list_url(tenant_a)).content.decode()


def test_login_page_in_english(db):
    client = Client(headers={"Accept-Language": "en"})
    html = client.get("/login").content.decode()
    assert "Sign in to LeadCRM" in html and "Work e-mail" in html


def test_pages_negotiate_the_language_and_the_json_api_does_not(owner_client, tenant_a):
    # Pages follow the browser's language; the API answers in English whatever it is sent.
    page = owner_client.get(list_url(tenant_a), headers={"Accept-Language": "en"})
    assert page["Content-Language"] == "en"
    api = owner_client.get("/api/v1/leads", headers={"Accept-Language": "zh-hans"})
    assert api.status_code == 200
    assert "Content-Language" not in api and "Accept-Language" not in api.get("Vary", "")
    docs = owner_client.get("/api/v1/docs/", headers={"Accept-Language": "en"})
    assert docs["Content-Language"] == "en"


# --- list header, ordering, suggestions, names, amounts --------------------------------------


def test_list_orders_by_the_apis_ordering_values_and_old_sort_links_still_work(owner_client, tenant_a):
    from leads.filters import ORDERING_CHOICES

    low = lead_make(tenant_a, name="低分", score_total=10)
    high = lead_make(tenant_a, name="高分", score_total=95)
    url = list_url(tenant_a)
    page = owner_client.get(url, {"ordering": "-score"})
    assert lead_ids_in(page) == [high.id, low.id]
    html = page.content.decode()
    assert '<select name="ordering">' in html and 'name="sort"' not in html
    assert re.findall(r'<option value="(-?(?:created_at|score))"', html) == list(ORDERING_CHOICES)
    assert '<option value="-score" selected>' in html
    assert lead_ids_in(owner_client.get(url, {"sort": "score"})) == [low.id, high.id]  # a link from before
    assert lead_ids_in(owner_client.get(url, {"sort": "score", "ordering": "-score"})) == [high.id, low.id]


def test_pager_links_carry_ordering_not_sort(owner_client, tenant_a):
    from leads.intake import lead_intake_many
    from tests.factories import next_mobile

    with tenant_scope(tenant_a.tenant.id):
        lead_intake_many(
            tenant=tenant_a.tenant, channel="api", payloads=[{"name": f"客户{i}", "mobile": next_mobile()} for i in range(51)]
        )
    html = owner_client.get(list_url(tenant_a), {"sort": "created_at"}).content.decode()
    next_link = re.search(r'rel="next" href="([^"]+)"', html)
    assert next_link and "ordering=created_at" in next_link.group(1) and "sort=" not in next_link.group(1)


def test_list_header_counts_the_matching_leads_in_both_languages(owner_client, tenant_a):
    from leads.intake import lead_intake_many
    from tests.factories import next_mobile

    with tenant_scope(tenant_a.tenant.id):
        lead_intake_many(
            tenant=tenant_a.tenant, channel="api",
            payloads=[{"name": f"客户{i}", "mobile": next_mobile(), "source": "展会" if i < 3 else "官网"} for i in range(60)],
        )
    url = list_url(tenant_a)
    assert '<p class="result-count" id="lead-count">共 60 条</p>' in owner_client.get(url).content.decode()
    second_page = re.search(r'rel="next" href="[^"]*cursor=([\w-]+)"', owner_client.get(url).content.decode())
    assert second_page is not None
    assert "共 60 条" in owner_client.get(url, {"cursor": second_page.group(1)}).content.decode()  # the list, not the page
    fragment = owner_client.get(url, {"source": "展会"}, headers={"HX-Request": "true"}).content.decode()
    assert "共 3 条" in fragment
    english = Client(headers={"Accept-Language": "en"})
    english.force_login(owner_user(tenant_a))
    assert "60 leads" in english.get(url).content.decode()
    assert ">1 lead<" in english.get(url, {"q": "客户59"}).content.decode()


@pytest.mark.parametrize(
    ("count", "chinese", "english"),
    [
        (("exact", 1234), "共 1,234 条", "1,234 leads"),
        (("exact", 1), "共 1 条", "1 lead"),
        (("more_than", 10_000), "超过 10,000 条", "10,000+ leads"),
        (("about", 1_200_000), "约 120 万条", "about 1,200,000 leads"),
    ],
)
def test_count_wording(count, chinese, english):
    from django.utils import translation

    from leads.selectors import LeadCount
    from leads.templatetags.lead_format import lead_count

    kind, value = count
    with translation.override("zh-hans"):
        assert lead_count(LeadCount(value=value, kind=kind)) == chinese
    with translation.override("en"):
        assert lead_count(LeadCount(value=value, kind=kind)) == english


def test_source_filter_suggests_the_values_the_tenants_leads_use(owner_client, tenant_a):
    lead_make(tenant_a, name="甲", source="客户转介绍")
    lead_make(tenant_a, name="乙", source="客户转介绍")
    lead_make(tenant_a, name="丙", source="展会")
    html = owner_client.get(list_url(tenant_a)).content.decode()
    datalist = re.search(r'<datalist id="lead-sources">(.*?)</datalist>', html)
    assert datalist is not None
    assert re.findall(r'<option value="([^"]*)">', datalist.group(1)) == ["客户转介绍", "展会"]


def test_people_without_a_name_are_shown_by_name_with_the_address_as_a_tooltip(owner_client, tenant_a):
    from leadcrm.tenancy.services import membership_create, user_get_or_create

    manager = user_get_or_create(email="li.lei.sales@tenant-a.test", password=PASSWORD)
    membership_create(tenant=tenant_a.tenant, user=manager, role=Role.MANAGER)
    lead = lead_make(tenant_a, name="客户", owner_id=manager.id)
    html = owner_client.get(list_url(tenant_a)).content.decode()
    assert '<span title="li.lei.sales@tenant-a.test">li.lei.sales</span>' in html  # owner column
    assert f'<option value="{manager.id}">li.lei.sales</option>' in html  # owner filter
    assert ">li.lei.sales@tenant-a.test<" not in html
    detail = owner_client.get(detail_url(tenant_a, lead)).content.decode()
    assert '<span title="li.lei.sales@tenant-a.test">li.lei.sales</span>' in detail
    # the signed-in owner has no name either: the menu names them, the address is a second line
    menu = re.search(r'<details class="user-menu">(.*?)</details>', html, re.S)
    assert menu is not None
    assert '<span class="user-name">owner</span>' in menu.group(1)
    assert (
        '<p class="menu-email"><span class="email-part">owner</span><wbr><span class="email-part">@tenant-a.test</span></p>'
        in menu.group(1)
    )


def test_annual_revenue_reads_in_wan_and_yi_in_chinese_and_millions_in_english(owner_client, tenant_a):
    lead = lead_make(tenant_a, name="客户", annual_revenue="12500000")
    html = owner_client.get(detail_url(tenant_a, lead)).content.decode()
    assert '<span title="¥12,500,000.00">1,250 万元</span>' in html
    english = Client(headers={"Accept-Language": "en"})
    english.force_login(owner_user(tenant_a))
    assert '<span title="¥12,500,000.00">¥12.5M</span>' in english.get(detail_url(tenant_a, lead)).content.decode()


def test_user_menu_names_a_user_who_has_no_workspace_yet(db):
    from leadcrm.tenancy.services import user_get_or_create

    client = Client()
    client.force_login(user_get_or_create(email="lonely.newcomer@example.test", password=PASSWORD))
    html = client.get("/").content.decode()
    assert '<span class="user-name">lonely.newcomer</span>' in html
