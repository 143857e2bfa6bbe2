"""The import pages: upload, mapping, dry run, import, error report; who may use them."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.test import Client

from capture.import_models import ImportFile, ImportJob
from capture.import_services import import_job_run
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.capture.helpers import csv_bytes, good_rows, xlsx_bytes
from tests.conftest import add_member

pytestmark = pytest.mark.django_db(transaction=True)


def _client(created: CreatedTenant, email: str | None = None) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email or f"owner@{created.tenant.slug}.test"))
    return client


def _upload(client: Client, slug: str, data: bytes, name: str = "客户名单.csv") -> object:
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(f"/{slug}/imports", {"file": upload})


def test_upload_map_dry_run_then_import(tenant_a: CreatedTenant) -> None:
    client = _client(tenant_a)
    slug = tenant_a.tenant.slug
    assert "导入线索" in client.get(f"/{slug}/leads").content.decode()  # linked from the lead list
    response = _upload(client, slug, csv_bytes(good_rows(5) + [["坏", "12345", "", "", ""]], encoding="gbk"))
    assert response.status_code == 302  # type: ignore[attr-defined]
    file_url = response["Location"]  # type: ignore[index]
    page = client.get(file_url).content.decode()
    assert "手机号码" in page and 'value="mobile" selected' in page  # guessed
    columns = {f"column-{i}": target for i, target in enumerate(["name", "mobile", "company", "email", ""])}
    response = client.post(file_url, {**columns, "action": "dry_run", "source": "展会"})
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        job = ImportJob.objects.get()
    import_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id)
    page = client.get(response["Location"]).content.decode()
    assert "没有写入任何线索" in page and "新建" in page and "手机号无效" in page
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 0
    response = client.post(file_url, {**columns, "action": "import", "source": "展会"})
    with tenant_scope(tenant_a.tenant.id):
        real = ImportJob.objects.get(is_dry_run=False)
        assert real.mapping["城市"] == ""  # the column left out stays out
    import_job_run(tenant_id=tenant_a.tenant.id, job_id=real.id)
    page = client.get(response["Location"]).content.decode()
    assert "下载错误报告" in page
    report = client.get(f"/{slug}/imports/{real.id}/errors.csv")
    text = report.content.decode("utf-8")
    assert text.startswith("\ufeff行号,结果,原因") and "手机号无效" in text
    with tenant_scope(tenant_a.tenant.id):
        assert sorted(Lead.objects.values_list("source", flat=True)) == ["展会"] * 5
    # the mapping is remembered: the next upload guesses the city column as left out
    again = _upload(client, slug, csv_bytes(good_rows(2, start=50)))
    assert 'name="column-4" >' not in client.get(again["Location"]).content.decode()  # type: ignore[index]


def test_a_bad_upload_says_why_next_to_the_field(tenant_a: CreatedTenant) -> None:
    client = _client(tenant_a)
    response = _upload(client, tenant_a.tenant.slug, b"", name="empty.csv")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "文件是空的" in response.content.decode()  # type: ignore[attr-defined]
    with tenant_scope(tenant_a.tenant.id):
        assert ImportFile.objects.count() == 0


def test_a_workbook_with_several_sheets_asks_which(tenant_a: CreatedTenant) -> None:
    client = _client(tenant_a)
    data = xlsx_bytes({"说明": [["说明"]], "线索": [["姓名", "手机"], ["张三", "13952816437"]]})
    response = _upload(client, tenant_a.tenant.slug, data, name="leads.xlsx")
    page = client.get(response["Location"]).content.decode()  # type: ignore[index]
    assert "请选择要导入的一个" in page
    page = client.get(response["Location"] + "?sheet=线索").content.decode()  # type: ignore[index]
    assert "张三" in page and 'value="name" selected' in page


def test_a_rep_is_told_who_may_import(tenant_a: CreatedTenant) -> None:
    add_member(tenant_a, "rep@tenant-a.test", role=Role.REP)
    client = _client(tenant_a, "rep@tenant-a.test")
    response = client.get(f"/{tenant_a.tenant.slug}/imports")
    assert response.status_code == 403 and "管理员和销售经理" in response.content.decode()
    assert "导入线索" not in client.get(f"/{tenant_a.tenant.slug}/leads").content.decode()


def test_the_list_filters_by_kind_and_status(tenant_a: CreatedTenant) -> None:
    client = _client(tenant_a)
    slug = tenant_a.tenant.slug
    file_url = _upload(client, slug, csv_bytes(good_rows(2)))["Location"]  # type: ignore[index]
    client.post(file_url, {"column-0": "name", "column-1": "mobile", "action": "dry_run"})
    assert "客户名单.csv" in client.get(f"/{slug}/imports?kind=dry_run").content.decode()
    assert "客户名单.csv" not in client.get(f"/{slug}/imports?kind=import").content.decode()
    assert "客户名单.csv" not in client.get(f"/{slug}/imports?status=done").content.decode()


def test_importing_a_file_that_is_being_imported_says_so_with_a_link(tenant_a: CreatedTenant) -> None:
    client = _client(tenant_a)
    slug = tenant_a.tenant.slug
    data = csv_bytes(good_rows(2))
    columns = {"column-0": "name", "column-1": "mobile", "action": "import"}
    first = client.post(_upload(client, slug, data)["Location"], columns)  # type: ignore[index]
    assert first.status_code == 302  # queued; no worker runs it here
    response = client.post(_upload(client, slug, data)["Location"], columns)  # type: ignore[index]
    assert response.status_code == 400
    page = response.content.decode()
    assert "正在导入中" in page and first["Location"] in page
