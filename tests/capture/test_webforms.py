"""The web form: the admin pages (list, editor, snippet), and the public form as a visitor and a
bot see it — framable, no cookies needed, the token and time trap, the honeypot, the per-IP
rate limit, messages next to the fields, quarantine thanked like any other submission."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escapejs

from capture.models import WebForm
from capture.webform_tokens import form_token_make
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import CustomField, IntakeRecord, Lead
from tests.conftest import add_member
from tests.factories import blacklist_entry_make, next_mobile, webform_make

pytestmark = pytest.mark.django_db


def admin_client(created: Any) -> Client:
    client = Client()
    client.force_login(created.owner.user)
    return client


def public_url(form: WebForm) -> str:
    return f"/f/{form.key}"


def aged_token(form: WebForm, seconds: float = 5) -> str:
    """The token a page rendered `seconds` ago carried (a person takes a few seconds to fill in)."""
    return form_token_make(key=form.key, now=time.time() - seconds)


def post(client: Client, form: WebForm, data: dict[str, str], **extra: Any) -> Any:
    return client.post(public_url(form), data, REMOTE_ADDR=extra.pop("ip", "203.0.113.7"), **extra)


def leads_of(created: Any) -> list[Lead]:
    with tenant_scope(created.tenant.id):
        return list(Lead.objects.all())


def refreshed(form: WebForm) -> WebForm:
    with tenant_scope(form.tenant_id):
        return WebForm.objects.get(id=form.id)


# --- admin pages ----------------------------------------------------------------------------------


def test_an_admin_creates_a_form_and_gets_the_snippet(tenant_a):
    client = admin_client(tenant_a)
    assert "网页表单" in client.get(f"/{tenant_a.tenant.slug}/leads").content.decode()  # in the admin navigation
    response = client.post(f"/{tenant_a.tenant.slug}/settings/web-forms/new", {
        "name": "官网咨询", "source": "官网", "campaign": "春季展会", "language": "zh-hans", "is_active": "on",
        "thank_you": "谢谢，顾问会在一个工作日内联系你。",
        "use:name": "on", "required:name": "on", "position:name": "1",
        "use:mobile": "on", "required:mobile": "on", "label:mobile": "您的手机", "position:mobile": "2",
        "use:company": "on", "position:company": "3",
    })
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        form = WebForm.objects.get(name="官网咨询")
    assert [spec["name"] for spec in form.fields] == ["name", "mobile", "company"]
    assert form.fields[1] == {"name": "mobile", "label": "您的手机", "required": True}
    assert len(form.key) >= 30
    page = client.get(response["Location"]).content.decode()
    assert f"/f/{form.key}/embed.js" in page and "&lt;iframe src=" in page and f"/f/{form.key}?preview=1" in page


def test_the_editor_says_what_to_fix_next_to_the_fields(tenant_a):
    webform_make(tenant_a, name="已有表单")
    response = admin_client(tenant_a).post(f"/{tenant_a.tenant.slug}/settings/web-forms/new", {
        "name": "", "language": "zh-hans", "use:name": "on", "use:company": "on",
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "请给表单起个名字" in html and "请至少选择一种联系方式" in html
    response = admin_client(tenant_a).post(f"/{tenant_a.tenant.slug}/settings/web-forms/new", {
        "name": "已有表单", "language": "zh-hans", "use:mobile": "on",
    })
    assert response.status_code == 400 and "已有同名的表单" in response.content.decode()


def test_the_list_filters_sorts_and_counts(tenant_a):
    busy = webform_make(tenant_a, name="展会表单", source="展会")
    webform_make(tenant_a, name="停用的表单", is_active=False)
    with tenant_scope(tenant_a.tenant.id):
        WebForm.objects.filter(id=busy.id).update(submission_count=7, bot_count=3)
    client = admin_client(tenant_a)
    url = f"/{tenant_a.tenant.slug}/settings/web-forms"
    html = client.get(url, {"ordering": "-submissions"}).content.decode()
    assert html.index("展会表单") < html.index("停用的表单")
    assert re.search(r'data-label="提交">7<', html) and re.search(r'data-label="拦截的机器人">3<', html)
    html = client.get(url, {"status": "inactive"}).content.decode()
    assert "停用的表单" in html and "展会表单" not in html
    html = client.get(url, {"q": "展会"}).content.decode()
    assert "展会表单" in html and "停用的表单" not in html


def test_a_rep_may_not_manage_forms(tenant_a):
    rep = add_member(tenant_a, "rep@a.test", Role.REP)
    form = webform_make(tenant_a)
    client = Client()
    client.force_login(rep.user)
    assert client.get(f"/{tenant_a.tenant.slug}/settings/web-forms").status_code == 403
    assert client.get(f"/{tenant_a.tenant.slug}/settings/web-forms/{form.id}").status_code == 403
    assert client.post(f"/{tenant_a.tenant.slug}/settings/web-forms/new", {"name": "x"}).status_code == 403


def test_another_tenants_form_is_404_in_the_editor(tenant_a, tenant_b):
    foreign = webform_make(tenant_b)
    assert admin_client(tenant_a).get(f"/{tenant_a.tenant.slug}/settings/web-forms/{foreign.id}").status_code == 404


# --- the public form ------------------------------------------------------------------------------


def test_the_public_form_renders_without_log_in_and_may_be_framed_anywhere(tenant_a):
    form = webform_make(tenant_a)
    response = Client().get(public_url(form))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "Set-Cookie" not in response and not response.cookies  # works in a third-party frame
    html = response.content.decode()
    assert 'name="form_token"' in html and 'name="website"' in html and 'lang="zh-hans"' in html
    assert "<script src=\"/static/js/webform_frame.js" in html or "webform_frame" in html
    # the rest of the app still refuses frames
    assert Client().get("/login")["X-Frame-Options"] == "DENY"


def test_the_form_speaks_english_when_asked(tenant_a):
    form = webform_make(tenant_a, language="en")
    html = Client().get(public_url(form)).content.decode()
    assert 'lang="en"' in html and "Submit" in html and "Mobile" in html
    html = Client().get(public_url(form), {"lang": "zh-hans"}).content.decode()
    assert "提交" in html and "手机" in html


def test_a_submission_becomes_a_lead_tagged_with_the_forms_source_and_campaign(tenant_a):
    form = webform_make(tenant_a, source="官网", campaign="春季展会", thank_you="谢谢，我们会尽快联系你。")
    mobile = next_mobile()
    response = post(Client(), form, {
        "form_token": aged_token(form), "name": "王芳", "mobile": mobile, "company": "北京纷扬科技有限公司",
        # not in the form: ignored, never taken into the lead
        "source": "伪造来源", "external_id": "x-1", "notes": "hello",
    })
    assert response.status_code == 200
    assert "谢谢，我们会尽快联系你。" in response.content.decode()
    [lead] = leads_of(tenant_a)
    assert (lead.mobile, lead.source, lead.campaign, lead.company) == (f"+86{mobile}", "官网", "春季展会", "北京纷扬科技有限公司")
    assert lead.external_id == "" and lead.notes == ""
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.filter(id=lead.id).values_list("created_by_id", flat=True).get() is None
    assert refreshed(form).submission_count == 1


def test_utm_parameters_of_the_embedding_page_are_kept(tenant_a):
    form = webform_make(tenant_a)
    html = Client().get(public_url(form), {"utm_source": "baidu", "utm_campaign": "spring"}).content.decode()
    assert 'name="utm_source" value="baidu"' in html
    post(Client(), form, {"form_token": aged_token(form), "name": "王芳", "mobile": next_mobile(),
                          "utm_source": "baidu", "utm_campaign": "spring"})
    [lead] = leads_of(tenant_a)
    assert (lead.utm_source, lead.utm_campaign) == ("baidu", "spring")


def test_invalid_input_is_shown_next_to_the_fields_with_the_values_kept(tenant_a):
    form = webform_make(tenant_a)
    response = post(Client(), form, {"form_token": aged_token(form), "name": "", "mobile": "12345", "company": "纷扬科技"})
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.findall(r'<span class="wf-error">([^<]*)</span>', html)
    assert any("请填写此项" in e for e in errors) and any("有效的手机号" in e for e in errors)
    assert 'value="12345"' in html and 'value="纷扬科技"' in html
    assert leads_of(tenant_a) == [] and refreshed(form).submission_count == 0


def test_the_honeypot_is_thanked_counted_and_creates_nothing(tenant_a):
    form = webform_make(tenant_a)
    response = post(Client(), form, {"form_token": aged_token(form), "name": "Bot", "mobile": next_mobile(),
                                     "website": "http://spam.example"})
    assert response.status_code == 200 and "提交成功" in response.content.decode()
    assert leads_of(tenant_a) == []
    with tenant_scope(tenant_a.tenant.id):
        assert not IntakeRecord.objects.exists()
    assert refreshed(form).bot_count == 1


@pytest.mark.parametrize(
    ("token", "notice"),
    [
        (None, "没能确认这次提交来自本表单"),
        ("forged:token", "没能确认这次提交来自本表单"),
        ("expired", "已经过期"),
        ("too_fast", "提交得太快了"),
        ("other_form", "没能确认这次提交来自本表单"),
    ],
)
def test_a_post_without_a_good_token_is_refused_politely_with_the_values_kept(tenant_a, token, notice):
    form = webform_make(tenant_a)
    other = webform_make(tenant_a)
    tokens = {
        None: None, "forged:token": "forged:token", "expired": aged_token(form, seconds=7 * 3600),
        "too_fast": form_token_make(key=form.key), "other_form": aged_token(other),
    }
    data = {"name": "王芳", "mobile": next_mobile()}
    if (sent := tokens[token]) is not None:
        data["form_token"] = sent
    response = post(Client(), form, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert notice in html and 'value="王芳"' in html
    fresh = re.search(r'name="form_token" value="([^"]+)"', html)
    assert fresh is not None  # a new token: sending again (after a moment) works
    assert leads_of(tenant_a) == []


def test_a_cross_site_post_needs_the_forms_token_not_a_cookie(tenant_a):
    form = webform_make(tenant_a)
    evil = {"HTTP_ORIGIN": "https://evil.example", "HTTP_REFERER": "https://evil.example/page"}
    client = Client(enforce_csrf_checks=True)
    assert post(client, form, {"name": "王芳", "mobile": next_mobile()}, **evil).status_code == 400
    assert leads_of(tenant_a) == []
    # embedded on the tenant's own site (another origin) with the token its frame rendered: taken in
    response = post(client, form, {"form_token": aged_token(form), "name": "王芳", "mobile": next_mobile()},
                    HTTP_ORIGIN="https://www.customer-site.example")
    assert response.status_code == 200 and len(leads_of(tenant_a)) == 1


def test_a_blacklisted_submission_is_thanked_but_quarantined(tenant_a):
    blacklist_entry_make(tenant_a, kind="company", value="竞品科技有限公司")
    form = webform_make(tenant_a)
    response = post(Client(), form, {"form_token": aged_token(form), "name": "王芳", "mobile": next_mobile(),
                                     "company": "竞品科技有限公司"})
    assert response.status_code == 200 and "提交成功" in response.content.decode()
    assert "黑名单" not in response.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        record = IntakeRecord.objects.get()
    assert record.channel == "form" and record.reasons == ["blacklist.company"]
    assert leads_of(tenant_a) == []


def test_an_unknown_or_inactive_form_is_a_404_page(tenant_a):
    inactive = webform_make(tenant_a, is_active=False)
    for url in ("/f/no-such-form-key-at-all-0000", "/f/short", public_url(inactive)):
        response = Client().get(url)
        assert response.status_code == 404 and "这个表单不存在或已停用" in response.content.decode()
    response = post(Client(), inactive, {"form_token": aged_token(inactive), "mobile": next_mobile()})
    assert response.status_code == 404 and leads_of(tenant_a) == []


def test_a_hundred_posts_in_a_second_from_one_ip_are_rate_limited(tenant_a, settings):
    settings.WEBFORM_POSTS_PER_MINUTE_PER_IP = 10
    form = webform_make(tenant_a)
    client = Client()
    statuses = [post(client, form, {"name": "x"}, ip="198.51.100.9").status_code for _ in range(100)]
    allowed = [status for status in statuses if status != 429]
    assert 10 <= len(allowed) <= 20  # one minute's allowance (two if the run straddles a minute)
    assert statuses.count(429) >= 80
    limited = post(client, form, {"name": "x"}, ip="198.51.100.9")
    assert limited.status_code == 429 and "提交太频繁了" in limited.content.decode()
    # another visitor is not affected
    assert post(client, form, {"name": "x"}, ip="198.51.100.10").status_code == 400


def test_custom_fields_are_asked_and_converted_to_their_type(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        CustomField.objects.create(tenant=tenant_a.tenant, key="budget", label="预算（万元）", field_type="number")
    form = webform_make(tenant_a, fields=[
        {"name": "mobile", "label": "", "required": True}, {"name": "custom.budget", "label": "", "required": False},
    ])
    html = Client().get(public_url(form)).content.decode()
    assert "预算（万元）" in html
    response = post(Client(), form, {"form_token": aged_token(form), "mobile": next_mobile(), "custom.budget": "abc"})
    assert response.status_code == 400 and "请填写数字" in response.content.decode()
    post(Client(), form, {"form_token": aged_token(form), "mobile": next_mobile(), "custom.budget": "50"})
    [lead] = leads_of(tenant_a)
    assert lead.custom == {"budget": 50}


def test_the_embed_script_is_served_by_the_app(tenant_a):
    form = webform_make(tenant_a)
    response = Client().get(f"/f/{form.key}/embed.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert escapejs(f"http://testserver/f/{form.key}") in body and "leadcrm-form-height" in body
    assert Client().get("/f/no-such-form-key-at-all-0000/embed.js").status_code == 404


def test_the_same_rendering_posted_twice_is_taken_in_once(tenant_a):
    form = webform_make(tenant_a)
    data = {"form_token": aged_token(form), "name": "王芳", "mobile": next_mobile()}
    first, again = post(Client(), form, data), post(Client(), form, data)  # a reload of the thank-you page
    assert first.status_code == again.status_code == 200 and "提交成功" in again.content.decode()
    assert len(leads_of(tenant_a)) == 1 and refreshed(form).submission_count == 1
