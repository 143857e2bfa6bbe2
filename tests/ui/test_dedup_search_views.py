"""The duplicate search page (查重) through Django's test client: what a rep and an admin see,
errors next to their fields, asking for a lead as a plain POST form and through htmx, and
English. Another tenant's data never appears."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import TRANSFER_REQUEST_ACTION
from tests.factories import lead_make
from tests.leads.test_dedup_search import FENYANG, Book, book_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(tenant_a: Any) -> Book:
    return book_make(tenant_a)


def client_for(membership: Any) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def page_url(book: Book, query: str = "") -> str:
    return f"/{book.created.tenant.slug}/dedup-search" + (f"?{query}" if query else "")


def ask_url(book: Book, lead: Any) -> str:
    return f"/{book.created.tenant.slug}/leads/{lead.id}/transfer-request"


def lead_ids_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="dedup-lead-(\d+)"', html)]


def item_html(html: str, lead: Any) -> str:
    start = html.rindex("<li", 0, html.index(f'id="dedup-lead-{lead.id}"'))
    return html[start : html.index("</li>", html.index('class="dd-actions"', start))]


def test_every_member_finds_the_page_in_the_navigation_and_from_the_lead_list(book):
    client = client_for(book.rep2)
    html = client.get(f"/{book.created.tenant.slug}/leads").content.decode()
    assert html.count(f'href="{page_url(book)}"') == 2  # the side navigation and the list's header
    first = client.get(page_url(book))
    assert first.status_code == 200
    text = first.content.decode()
    assert "怎么查" in text and 'aria-current="page"' in text and lead_ids_in(text) == []


def test_a_rep_sees_another_reps_lead_masked_with_its_owner_and_can_ask_for_it(book):
    html = client_for(book.rep2).get(page_url(book, "company=北京纷扬")).content.decode()
    assert lead_ids_in(html) == [book.pooled.id, book.traditional.id, book.showcase.id]
    assert "找到 3 条已有线索" in html
    showcase = item_html(html, book.showcase)
    assert "is-masked" in showcase and "联系方式已隐藏" in showcase
    assert "139****0586" in showcase and "l****@fenyang.com.cn" in showcase
    assert "13912340586" not in html and "lin.xiaofeng@" not in html
    assert "张伟" in showcase and "同一公司（模糊）" in showcase
    assert f"/leads/{book.showcase.id}\"" not in html  # no link to a lead the rep may not open
    assert f'action="{ask_url(book, book.showcase)}"' in showcase and "csrfmiddlewaretoken" in showcase
    assert "请求转给我" in showcase
    pooled = item_html(html, book.pooled)
    assert "可到线索池领取" in pooled and "请求转给我" not in pooled


def test_an_admin_sees_every_row_in_full_with_links_and_nothing_to_ask(book):
    html = client_for(book.created.owner).get(page_url(book, "company=北京纷扬&name=林晓峰")).content.decode()
    showcase = item_html(html, book.showcase)
    assert "is-masked" not in showcase and "139 1234 0586" in showcase and "lin.xiaofeng@fenyang.com.cn" in showcase
    assert f'href="/{book.created.tenant.slug}/leads/{book.showcase.id}"' in showcase
    assert "同一公司（模糊）且联系人相同" in showcase
    assert "请求转给我" not in html


def test_another_tenants_data_never_appears(book, tenant_b):
    theirs = lead_make(tenant_b, name="林晓峰", company=FENYANG, mobile="13912340586", owner_id=tenant_b.owner.user_id)
    html = client_for(book.created.owner).get(page_url(book, "mobile=13912340586&company=纷扬&name=林晓峰")).content.decode()
    assert theirs.id not in lead_ids_in(html) and book.showcase.id in lead_ids_in(html)
    assert client_for(book.created.owner).get(f"/{tenant_b.tenant.slug}/dedup-search").status_code == 404


def test_bad_input_is_shown_next_to_its_field(book):
    html = client_for(book.rep2).get(page_url(book, "mobile=12345&email=lin@")).content.decode()
    mobile = html[html.index('name="mobile"') : html.index('name="email"')]
    assert 'aria-invalid="true"' in mobile and "这不是有效的手机号" in html
    assert "这不是有效的邮箱地址" in html and "dd-results" not in html
    assert 'value="12345"' in html  # what was typed stays in the box


def test_an_empty_search_asks_for_one_criterion(book):
    html = client_for(book.rep2).get(page_url(book, "mobile=&company=")).content.decode()
    assert "请至少填写一项" in html and "怎么查" not in html


def test_nothing_found_says_it_is_safe_to_enter(book):
    html = client_for(book.rep2).get(page_url(book, "mobile=13700001111")).content.decode()
    assert "没有找到已有线索" in html and "可以放心录入" in html


def test_htmx_gets_the_search_fragment(book):
    response = client_for(book.rep2).get(page_url(book, "company=纷扬"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="dedup-search"')
    assert "HX-Request" in response["Vary"]


def test_asking_without_javascript_redirects_back_to_the_search_with_a_message(book, django_capture_on_commit_callbacks):
    client = client_for(book.rep2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ask_url(book, book.showcase), {"message": "客户来电", "return_to": "company=北京纷扬&x=1"})
    assert response.status_code == 302 and response["Location"] == page_url(book, "company=%E5%8C%97%E4%BA%AC%E7%BA%B7%E6%89%AC")
    html = client.get(response["Location"]).content.decode()
    assert "已发送请求：张伟 会收到邮件" in html
    showcase = item_html(html, book.showcase)
    assert "已请求" in showcase and "已通知 张伟" in showcase and "请求转给我" not in showcase
    (email,) = mail.outbox
    assert "客户来电" in email.body and f"http://testserver/{book.created.tenant.slug}/leads/{book.showcase.id}" in email.body
    with tenant_scope(book.created.tenant.id):
        assert AuditLog.objects.filter(action=TRANSFER_REQUEST_ACTION, actor=book.rep2.user).count() == 1


def test_asking_through_htmx_swaps_the_search_in_place(book):
    client = client_for(book.rep2)
    response = client.post(
        ask_url(book, book.showcase), {"return_to": "company=北京纷扬"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="dedup-search"')
    assert "flash-success" in html and "已请求" in item_html(html, book.showcase)
    assert response["HX-Replace-Url"] == page_url(book, "company=%E5%8C%97%E4%BA%AC%E7%BA%B7%E6%89%AC")
    again = client.post(ask_url(book, book.showcase), {"return_to": "company=北京纷扬"}, HTTP_HX_REQUEST="true")
    assert "24 小时内不再重复提醒" in again.content.decode()


def test_a_refused_request_says_why(book):
    client = client_for(book.rep2)
    response = client.post(ask_url(book, book.pooled), {"return_to": "company=纷扬"}, follow=True)
    assert "这条线索在线索池中，暂无负责人：请到线索池领取。" in response.content.decode()


def test_the_request_address_leads_back_to_the_page_and_is_404_for_another_tenants_lead(book, tenant_b):
    client = client_for(book.rep2)
    response = client.get(ask_url(book, book.showcase))
    assert response.status_code == 302 and response["Location"] == page_url(book)
    theirs = lead_make(tenant_b, name="林晓峰")
    assert client.get(ask_url(book, theirs)).status_code == 404
    assert client.post(ask_url(book, theirs), {}).status_code == 404


def test_a_read_only_member_may_search_but_not_ask(book):
    html = client_for(book.read_only).get(page_url(book, "company=纷扬")).content.decode()
    assert book.showcase.id in lead_ids_in(html) and "请求转给我" not in html


def test_the_page_speaks_english(book):
    client = client_for(book.rep2)
    client.post("/i18n/setlang/", {"language": "en", "next": page_url(book)})
    html = client.get(page_url(book, "company=北京纷扬&name=林晓峰")).content.decode()
    for words in ("Duplicate check", "Same company (fuzzy) and contact", "Contacts hidden", "Ask for this lead", "3 existing leads found"):
        assert words in html, words
    assert "同一公司" not in html and "请求转给我" not in html
    html = client.get(page_url(book, "mobile=123")).content.decode()
    assert "This is not a valid mobile number" in html
