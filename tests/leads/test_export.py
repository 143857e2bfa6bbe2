"""Exports of the lead list, page and API: the list's filters, order and scoping, masked pools,
formula cells neutralised, English headers, empty lists, bad formats, other tenants, the audit."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from leadcrm.spreadsheet import cell_safe
from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.export import EXPORT_ACTION
from leads.models import Lead
from tests.conftest import add_member
from tests.factories import lead_make, next_mobile, pool_make

pytestmark = pytest.mark.django_db


def _client(user: Any, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def _csv_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the Chinese only with the byte-order mark
    return list(csv.reader(io.StringIO(body[1:])))


def _sheet(response: Any) -> Any:
    """The first worksheet of an XLSX answer."""
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def export_url(created: CreatedTenant) -> str:
    return f"/{created.tenant.slug}/leads/export"


def test_cell_safe_neutralises_formula_triggers():
    assert [cell_safe(v) for v in ("=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx", "王伟", None, 3)] == [
        "'=1+1", "'+86", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "王伟", "", "3",
    ]


def test_csv_export_has_the_lists_filters_order_and_chinese_headers(tenant_a):
    lead_make(tenant_a, name="甲", source="官网")
    lead_make(tenant_a, name="乙", source="展会")
    lead_make(tenant_a, name="丙", source="官网")
    response = _client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv", "source": "官网", "ordering": "created_at"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0][:6] == ["编号", "姓名", "公司", "职位", "手机", "邮箱"]
    assert "状态" in rows[0] and "负责人" in rows[0]
    assert [row[1] for row in rows[1:]] == ["甲", "丙"]
    status = rows[0].index("状态")
    assert rows[1][status] == "待处理"  # a choice as words, not its code


def test_export_walks_every_page_of_the_list(tenant_a):
    from leads import export

    for n in range(7):
        lead_make(tenant_a, name=f"客户{n}")
    original = export.EXPORT_CHUNK_SIZE
    export.EXPORT_CHUNK_SIZE = 3  # several keyset chunks
    try:
        rows = _csv_rows(_client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv"}))
    finally:
        export.EXPORT_CHUNK_SIZE = original
    assert [row[1] for row in rows[1:]] == [f"客户{n}" for n in reversed(range(7))]


def test_english_export_has_english_headers_and_words(tenant_a):
    lead_make(tenant_a, name="Wang")
    rows = _csv_rows(_client(tenant_a.owner.user, "en").get(export_url(tenant_a), {"format": "csv"}))
    assert rows[0][:3] == ["ID", "Name", "Company"]
    assert rows[1][rows[0].index("Status")] == "Pending"
    assert rows[1][rows[0].index("Owner")] == "Unassigned"


def test_rep_exports_only_their_own_leads(tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP, name="张伟")
    lead_make(tenant_a, name="我的", owner_id=rep.user_id)
    lead_make(tenant_a, name="别人的")
    rows = _csv_rows(_client(rep.user).get(export_url(tenant_a), {"format": "csv"}))
    assert [row[1] for row in rows[1:]] == ["我的"]
    assert rows[1][rows[0].index("负责人")] == "张伟"


def test_masked_pool_stays_masked_in_the_export(tenant_a):
    manager = add_member(tenant_a, "mgr@tenant-a.test", Role.MANAGER)
    pool = pool_make(tenant_a, kind="public", mask_contacts=True)
    mobile = next_mobile()
    lead_make(tenant_a, name="公海客户", mobile=mobile, email="wang@fenyang-tech.cn", pool_id=pool.id)
    rows = _csv_rows(_client(manager.user).get(export_url(tenant_a), {"format": "csv"}))
    masked_mobile, email = rows[1][4], rows[1][5]
    assert "****" in masked_mobile and mobile not in masked_mobile
    assert email == "w****@fenyang-tech.cn"
    assert rows[1][rows[0].index("线索池")] == pool.name
    # the admin reads it whole
    rows = _csv_rows(_client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv"}))
    assert rows[1][4] == mobile and rows[1][5] == "wang@fenyang-tech.cn"  # 138…, not a would-be formula '+86…


def test_formula_cells_are_escaped_in_csv_and_xlsx(tenant_a):
    lead_make(tenant_a, name="=HYPERLINK(\"http://x\")", company="@evil", title="-1+2")
    client = _client(tenant_a.owner.user)
    rows = _csv_rows(client.get(export_url(tenant_a), {"format": "csv"}))
    assert rows[1][1:4] == ["'=HYPERLINK(\"http://x\")", "'@evil", "'-1+2"]
    response = client.get(export_url(tenant_a), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = _sheet(response)
    values = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[1:4] == ["'=HYPERLINK(\"http://x\")", "'@evil", "'-1+2"]
    assert sheet.cell(row=2, column=2).data_type == "s"  # text, not a formula


def test_a_control_character_in_a_lead_does_not_break_the_xlsx(key_client, tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):  # stored before intake dropped control characters
        Lead.objects.filter(id=lead.id).update(name="王\x01伟")
    response = key_client.get("/api/v1/leads/export", {"format": "xlsx"})
    assert response.status_code == 200
    row = next(_sheet(response).iter_rows(min_row=2, max_row=2, values_only=True))
    assert row[1] == "王伟"
    assert _csv_rows(key_client.get("/api/v1/leads/export", {"format": "csv"}))[1][1] == "王\x01伟"  # CSV keeps it


def test_xlsx_export_has_headers_and_rows(tenant_a):
    lead_make(tenant_a, name="李娜", source="官网")
    response = _client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = _sheet(response)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("编号", "姓名") and rows[1][1] == "李娜"


def test_xlsx_above_the_cap_is_refused_with_a_message(tenant_a, monkeypatch):
    from leads import export

    monkeypatch.setattr(export, "XLSX_ROW_CAP", 1)
    lead_make(tenant_a)
    lead_make(tenant_a)
    client = _client(tenant_a.owner.user)
    response = client.get(export_url(tenant_a), {"format": "xlsx"}, follow=True)
    assert "Excel 一次最多导出 1 条线索" in response.content.decode()


def test_empty_export_has_headers_only(tenant_a):
    lead_make(tenant_a, source="官网")
    rows = _csv_rows(_client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv", "source": "无此来源"}))
    assert len(rows) == 1 and rows[0][1] == "姓名"


def test_unknown_format_goes_back_to_the_list_with_a_message(tenant_a):
    response = _client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "pdf", "source": "官网"}, follow=True)
    assert response.status_code == 200
    assert "不支持导出为「pdf」" in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("source=%E5%AE%98%E7%BD%91")


def test_export_of_another_tenant_is_404_and_leaks_nothing(tenant_a, tenant_b):
    lead_make(tenant_b, name="别家客户")
    response = _client(tenant_a.owner.user).get(export_url(tenant_b), {"format": "csv"})
    assert response.status_code == 404
    rows = _csv_rows(_client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv"}))
    assert rows[1:] == []


def test_export_is_audited_with_its_filters_and_rows(tenant_a):
    lead_make(tenant_a, source="官网")
    lead_make(tenant_a, source="官网")
    _csv_rows(_client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv", "source": "官网"}))
    with tenant_scope(tenant_a.tenant.id):
        entry = AuditLog.objects.get(action=EXPORT_ACTION)
    assert entry.actor_id == tenant_a.owner.user_id
    assert entry.changes["rows"] == 2 and entry.changes["complete"] is True
    assert entry.changes["filters"] == {"source": ["官网"]} and entry.changes["format"] == "csv"


def test_export_honours_the_chosen_columns(tenant_a):
    lead_make(tenant_a)
    rows = _csv_rows(_client(tenant_a.owner.user).get(export_url(tenant_a), {"format": "csv", "cols": ["name", "owner"]}))
    assert rows[0] == ["编号", "姓名", "公司", "职位", "手机", "邮箱", "负责人"]


def test_list_page_links_to_the_export_with_its_filters(tenant_a):
    lead_make(tenant_a, source="官网")
    page = _client(tenant_a.owner.user).get(f"/{tenant_a.tenant.slug}/leads", {"source": "官网"}).content.decode()
    assert f"/{tenant_a.tenant.slug}/leads/export?source=%E5%AE%98%E7%BD%91&amp;format=csv" in page
    assert "format=xlsx" in page


# --- API ------------------------------------------------------------------------------------


def test_api_export_streams_csv_with_the_lists_filters(key_client, tenant_a):
    lead_make(tenant_a, name="A", source="web")
    lead_make(tenant_a, name="B", source="fair")
    response = key_client.get("/api/v1/leads/export", {"format": "csv", "source": "web"})
    assert response.status_code == 200, response.content
    rows = _csv_rows(response)
    assert rows[0][:2] == ["ID", "Name"]
    assert [row[1] for row in rows[1:]] == ["A"]


def test_api_key_exports_whole_contacts(key_client, tenant_a):
    pool = pool_make(tenant_a, kind="public", mask_contacts=True)
    mobile = next_mobile()
    lead_make(tenant_a, mobile=mobile, pool_id=pool.id)
    rows = _csv_rows(key_client.get("/api/v1/leads/export", {"format": "csv"}))
    assert rows[1][4] == mobile


def test_api_export_refuses_an_unknown_or_empty_format(key_client):
    for value in ("pdf", ""):
        response = key_client.get("/api/v1/leads/export", {"format": value})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/problem+json")
        assert "format" in response.content.decode()
    assert key_client.get("/api/v1/leads/export").status_code == 400


def test_api_export_refuses_bad_filters(key_client):
    assert key_client.get("/api/v1/leads/export", {"format": "csv", "ordering": "name"}).status_code == 400
    assert key_client.get("/api/v1/leads/export", {"format": "csv", "min_score": ""}).status_code == 400


def test_api_export_as_a_rep_session_is_their_own_leads(api_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP)
    lead_make(tenant_a, name="mine", owner_id=rep.user_id)
    lead_make(tenant_a, name="theirs")
    api_client.force_login(rep.user)
    rows = _csv_rows(api_client.get("/api/v1/leads/export", {"format": "csv"}))
    assert [row[1] for row in rows[1:]] == ["mine"]


def test_api_xlsx_export(key_client, tenant_a):
    lead_make(tenant_a, name="A")
    response = key_client.get("/api/v1/leads/export", {"format": "xlsx"})
    assert response.status_code == 200
    sheet = _sheet(response)
    assert [row[1] for row in sheet.iter_rows(values_only=True)] == ["Name", "A"]


def test_a_download_cut_off_is_audited_as_incomplete(tenant_a, monkeypatch):
    from leads import export
    from leads.filters import ordering_for
    from leads.list_columns import DEFAULT_COLUMNS
    from leads.models import Lead

    monkeypatch.setattr(export, "EXPORT_CHUNK_SIZE", 2)
    for _n in range(5):
        lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        stream = export.lead_export_csv_stream(export=export.LeadExport(
            tenant=tenant_a.tenant, leads=Lead.objects.all(), ordering=ordering_for(None), columns=DEFAULT_COLUMNS,
            viewer_id=tenant_a.owner.user_id, viewer_is_admin=True, masking_pool_ids=frozenset(), pool_names={},
            actor=tenant_a.owner.user,
        ))
    next(stream), next(stream)  # the header, then the first two rows; then the reader goes away
    stream.close()  # what the server does when the client hangs up
    with tenant_scope(tenant_a.tenant.id):
        entry = AuditLog.objects.get(action=EXPORT_ACTION)
    assert entry.changes["complete"] is False and entry.changes["rows"] == 2
