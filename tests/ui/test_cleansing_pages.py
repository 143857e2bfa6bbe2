"""The 清洗规则 / Cleansing admin pages through Django's test client: admins can, others are
told who may, errors sit next to their field, every action works as a plain POST form (no
JavaScript) and through htmx, and what is changed applies to the next submission."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.cleansing import clear_matcher_caches
from leads.cleansing_services import blacklist_entry_add
from leads.intake import lead_intake
from leads.models import BlacklistEntry, CleansingPolicy, SensitiveWord
from tests.conftest import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_matchers() -> None:
    clear_matcher_caches()


@pytest.fixture
def admin_client(tenant_a: CreatedTenant) -> Client:
    client = Client()
    client.force_login(tenant_a.owner.user)
    return client


def url(created: CreatedTenant, path: str = "") -> str:
    return f"/{created.tenant.slug}/settings/cleansing{path}"


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field_errors(response: Any) -> list[str]:
    return re.findall(r'<span class="field-error"[^>]*>([^<]*)</span>', response.content.decode())


def intake(created: CreatedTenant, **payload: Any) -> Any:
    with tenant_scope(created.tenant.id):
        return lead_intake(tenant=created.tenant, payload=payload, channel="form")


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.READ_ONLY])
def test_members_who_are_not_admins_are_told_who_may(tenant_a, role):
    member = add_member(tenant_a, f"{role}@tenant-a.test", role=role)
    add_member(tenant_a, "admin@tenant-a.test", role=Role.ADMIN, name="钱管理")
    client = Client()
    client.force_login(member.user)
    for path in ("", "/words", "/policy"):
        response = client.get(url(tenant_a, path))
        assert response.status_code == 403
        assert "只有管理员可以查看和修改清洗规则" in text(response)
        assert "钱管理" in text(response)
    response = client.post(url(tenant_a), {"kind": "phone", "value": "13952816437"})
    assert response.status_code == 403
    with tenant_scope(tenant_a.tenant.id):
        assert not BlacklistEntry.objects.exists()
    assert "清洗规则" not in text(client.get(f"/{tenant_a.tenant.slug}/leads"))  # no link to a page they cannot use


def test_admins_find_the_page_under_the_admin_heading(tenant_a, admin_client):
    page = text(admin_client.get(f"/{tenant_a.tenant.slug}/leads"))
    assert '<p class="sidenav-heading sidenav-heading-next">管理</p>' in page
    assert f'href="{url(tenant_a)}"' in page


def test_another_tenants_admin_gets_a_404(tenant_a, tenant_b):
    client = Client()
    client.force_login(tenant_b.owner.user)
    assert client.get(url(tenant_a)).status_code == 404
    assert client.post(url(tenant_a), {"kind": "phone", "value": "13952816437"}).status_code == 404


# --- blacklist --------------------------------------------------------------------------------


def test_adding_an_entry_without_javascript_redirects_with_a_message_and_applies_at_once(tenant_a, admin_client):
    assert intake(tenant_a, name="张伟", mobile="13952816437").outcome == "created"
    response = admin_client.post(url(tenant_a), {"kind": "phone", "value": "139 5281 6437", "note": "多次投诉"}, follow=True)
    page = text(response)
    assert response.redirect_chain == [(url(tenant_a), 302)]
    assert "已将“139 5281 6437”加入黑名单" in page
    assert "+8613952816437" in page and "多次投诉" in page
    outcome = intake(tenant_a, name="张伟", mobile="13952816437")
    assert (outcome.outcome, outcome.reasons) == ("quarantined", ["blacklist.phone"])


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("phone", "张三的电话", "不是电话号码"),
        ("email", "zhang.san#qq.com", "不是邮箱地址"),
        ("phone", "", "请填写要拦截的号码、邮箱、域名、公司或关键词"),
    ],
)
def test_a_bad_entry_is_shown_again_with_the_error_next_to_the_field(tenant_a, admin_client, kind, value, error):
    response = admin_client.post(url(tenant_a), {"kind": kind, "value": value})
    assert response.status_code == 200
    errors = field_errors(response)
    assert len(errors) == 1 and error in errors[0]
    page = response.content.decode()
    # the message belongs to the value field, which keeps what was typed
    assert re.search(r'name="value" id="blacklist-value"[^>]*value="' + re.escape(value) + r'"[^>]*aria-invalid="true"', page)
    with tenant_scope(tenant_a.tenant.id):
        assert not BlacklistEntry.objects.exists()


def test_a_duplicate_entry_is_named_next_to_the_field(tenant_a, admin_client):
    with tenant_scope(tenant_a.tenant.id):
        blacklist_entry_add(tenant=tenant_a.tenant, kind="email_domain", value="spam.cn")
    response = admin_client.post(url(tenant_a), {"kind": "email_domain", "value": "@SPAM.cn"})
    assert "“spam.cn”已在黑名单中" in field_errors(response)[0]


def test_the_list_filters_by_kind_and_search_and_htmx_gets_the_table_alone(tenant_a, admin_client):
    with tenant_scope(tenant_a.tenant.id):
        for kind, value in [("phone", "13952816437"), ("email_domain", "spam.cn"), ("keyword", "代开发票"), ("company", "北京纷扬科技有限公司")]:
            blacklist_entry_add(tenant=tenant_a.tenant, kind=kind, value=value)
    page = text(admin_client.get(url(tenant_a), {"kind": "keyword"}))
    assert re.search(r'<option value="keyword" selected>关键词（1）</option>', page)
    table = page.split('id="blacklist-table"')[1]
    assert "代开发票" in table and "spam.cn" not in table and "共 1 条" in table
    table = text(admin_client.get(url(tenant_a), {"q": "纷扬"})).split('id="blacklist-table"')[1]
    assert "北京纷扬科技有限公司" in table and "代开发票" not in table
    fragment = admin_client.get(url(tenant_a), {"q": "spam"}, headers={"HX-Request": "true", "HX-Target": "blacklist-table"})
    assert fragment.content.decode().lstrip().startswith('<div id="blacklist-table"')
    assert "spam.cn" in text(fragment) and "<html" not in text(fragment)
    assert "HX-Request" in fragment["Vary"]
    empty = text(admin_client.get(url(tenant_a), {"q": "没有这个"}))
    assert "没有符合条件的条目" in empty


def test_deleting_asks_first_without_javascript_then_goes_back_to_the_filtered_list(tenant_a, admin_client):
    with tenant_scope(tenant_a.tenant.id):
        entry = blacklist_entry_add(tenant=tenant_a.tenant, kind="keyword", value="代开发票")
    list_with_filter = url(tenant_a) + "?kind=keyword"
    confirm = admin_client.get(url(tenant_a, f"/blacklist/{entry.id}/delete"), {"next": list_with_filter})
    assert confirm.status_code == 200
    assert "确认删除" in text(confirm) and "代开发票" in text(confirm)
    with tenant_scope(tenant_a.tenant.id):
        assert BlacklistEntry.objects.exists()  # asking deletes nothing
    response = admin_client.post(url(tenant_a, f"/blacklist/{entry.id}/delete"), {"next": list_with_filter})
    assert (response.status_code, response["Location"]) == (302, list_with_filter)
    assert "已从黑名单删除“代开发票”" in text(admin_client.get(list_with_filter))
    with tenant_scope(tenant_a.tenant.id):
        assert not BlacklistEntry.objects.exists()
    assert intake(tenant_a, name="张伟", mobile="13952816437", notes="可以代开发票").reasons == ["sensitive_word"]


def test_deleting_never_redirects_off_the_site(tenant_a, admin_client):
    with tenant_scope(tenant_a.tenant.id):
        entry = blacklist_entry_add(tenant=tenant_a.tenant, kind="keyword", value="竞品")
    response = admin_client.post(url(tenant_a, f"/blacklist/{entry.id}/delete"), {"next": "https://evil.example/"})
    assert response["Location"] == url(tenant_a)


def test_another_tenants_entry_cannot_be_deleted_from_this_tenants_page(tenant_a, tenant_b, admin_client):
    with tenant_scope(tenant_b.tenant.id):
        foreign = blacklist_entry_add(tenant=tenant_b.tenant, kind="keyword", value="竞品")
    assert admin_client.get(url(tenant_a, f"/blacklist/{foreign.id}/delete")).status_code == 404
    assert admin_client.post(url(tenant_a, f"/blacklist/{foreign.id}/delete")).status_code == 404
    with tenant_scope(tenant_b.tenant.id):
        assert BlacklistEntry.objects.count() == 1


def upload(name: str, content: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(encoding), content_type="text/csv")


def test_an_import_with_bad_lines_is_refused_and_each_line_is_reported(tenant_a, admin_client):
    data = "手机,13952816437\n手机,12345\n邮箱,zhang.san#qq.com\n"
    response = admin_client.post(url(tenant_a, "/blacklist/import"), {"file": upload("list.csv", data, "gbk")})
    page = text(response)
    assert response.status_code == 200
    assert "文件未导入，没有添加任何条目" in page
    assert "有 2 行无法导入" in page
    assert re.search(r"<td class=\"num\">2</td><td class=\"line-text\">手机,12345</td><td>“12345”不是电话号码", page)
    assert re.search(r"<td class=\"num\">3</td>", page)
    with tenant_scope(tenant_a.tenant.id):
        assert not BlacklistEntry.objects.exists()


def test_an_import_skipping_bad_lines_reports_what_it_did(tenant_a, admin_client):
    data = "手机,13952816437\n手机,12345\n域名,spam.cn\n"
    response = admin_client.post(
        url(tenant_a, "/blacklist/import"), {"file": upload("list.csv", data), "skip_invalid": "on", "note": "投诉名单"}
    )
    page = text(response)
    assert "导入完成：新增 2 条，0 条已存在（跳过），1 行有问题未导入" in page
    assert "以下 1 行有问题，未导入" in page
    with tenant_scope(tenant_a.tenant.id):
        assert set(BlacklistEntry.objects.values_list("value", "note")) == {("+8613952816437", "投诉名单"), ("spam.cn", "投诉名单")}


def test_a_clean_import_redirects_with_its_counts(tenant_a, admin_client):
    response = admin_client.post(
        url(tenant_a, "/blacklist/import"), {"file": upload("list.txt", "13952816437\nspam.cn\n"), "kind": ""}, follow=True
    )
    assert "导入完成：新增 2 条，0 条已存在（跳过）" in text(response)


def test_an_import_without_a_file_says_so_next_to_the_field(tenant_a, admin_client):
    response = admin_client.post(url(tenant_a, "/blacklist/import"), {"kind": "phone"})
    assert field_errors(response) == ["请选择要上传的文件"]


def test_htmx_posts_answer_with_the_page_the_panel_is_taken_from(tenant_a, admin_client):
    response = admin_client.post(url(tenant_a), {"kind": "phone", "value": "bad"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="cleansing-panel"' in page
    assert "不是电话号码" in page


# --- sensitive words and the policy -----------------------------------------------------------


def test_the_words_tab_shows_the_lexicon_by_category_and_switches_it_off(tenant_a, admin_client):
    page = text(admin_client.get(url(tenant_a, "/words")))
    assert "内置敏感词库" in page and "已启用" in page
    for category in ("赌博", "色情", "诈骗", "发票", "武器", "毒品", "政治"):
        assert re.search(f"<span>{category}</span><span class=\"count\">\\d+</span>", page), category
    assert intake(tenant_a, name="张伟", mobile="13952816437", notes="网上赌场").reasons == ["sensitive_word"]
    response = admin_client.post(url(tenant_a, "/words/builtin"), {}, follow=True)
    assert "已关闭内置敏感词库" in text(response)
    with tenant_scope(tenant_a.tenant.id):
        assert CleansingPolicy.objects.get().use_builtin_words is False
    assert intake(tenant_a, name="张伟", mobile="13952816438", notes="网上赌场").outcome == "created"
    admin_client.post(url(tenant_a, "/words/builtin"), {"use_builtin_words": "on"})
    with tenant_scope(tenant_a.tenant.id):
        assert CleansingPolicy.objects.get().use_builtin_words is True


def test_a_word_is_added_listed_and_deleted(tenant_a, admin_client):
    response = admin_client.post(url(tenant_a, "/words"), {"word": "某某竞品", "category": "custom"}, follow=True)
    assert "已添加敏感词“某某竞品”" in text(response)
    assert intake(tenant_a, name="张伟", mobile="13952816437", company="某某竞品代理商").reasons == ["sensitive_word"]
    with tenant_scope(tenant_a.tenant.id):
        word = SensitiveWord.objects.get()
    assert "某某竞品" in text(admin_client.get(url(tenant_a, "/words"), {"category": "custom"}))
    exceptions_only = admin_client.get(
        url(tenant_a, "/words"), {"category": "allow"}, headers={"HX-Request": "true", "HX-Target": "word-table"}
    )
    assert "某某竞品" not in text(exceptions_only) and "没有符合条件的敏感词" in text(exceptions_only)
    admin_client.post(url(tenant_a, f"/words/{word.id}/delete"))
    assert intake(tenant_a, name="张伟", mobile="13952816438", company="某某竞品代理商").outcome == "created"


def test_a_one_character_word_is_refused_next_to_the_field(tenant_a, admin_client):
    response = admin_client.post(url(tenant_a, "/words"), {"word": "赌", "category": "custom"})
    assert "太短" in field_errors(response)[0]


def test_a_word_file_is_imported(tenant_a, admin_client):
    response = admin_client.post(
        url(tenant_a, "/words/import"), {"file": upload("words.txt", "竞品甲\n赌博,网上赌场\n竞品甲\n"), "category": "custom"},
        follow=True,
    )
    assert "导入完成：新增 2 条，1 条已存在（跳过）" in text(response)


def test_the_policy_switches_to_flagging(tenant_a, admin_client):
    page = text(admin_client.get(url(tenant_a, "/policy")))
    assert re.search(r'value="quarantine" checked', page)
    response = admin_client.post(url(tenant_a, "/policy"), {"sensitive_action": "flag", "use_builtin_words": "on"}, follow=True)
    assert "处理方式已保存" in text(response)
    assert re.search(r'value="flag" checked', text(response))
    outcome = intake(tenant_a, name="张伟", mobile="13952816437", notes="可以代开发票")
    assert outcome.outcome == "created" and "敏感词" in outcome.lead.tags


def test_a_policy_without_a_choice_says_so_next_to_it(tenant_a, admin_client):
    response = admin_client.post(url(tenant_a, "/policy"), {"use_builtin_words": "on"})
    assert field_errors(response) == ["请选择命中敏感词时的处理方式"]


def test_the_pages_speak_english(tenant_a, admin_client):
    admin_client.post("/i18n/setlang/", {"language": "en", "next": url(tenant_a)})
    page = text(admin_client.get(url(tenant_a)))
    assert "Cleansing" in page and "Blacklist" in page and "Add to the blacklist" in page
    response = admin_client.post(url(tenant_a), {"kind": "phone", "value": "abc"})
    assert "is not a phone number" in field_errors(response)[0]
