"""/api/v1/imports: the contract of API.md "Imports", the bad input, and tenant isolation."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from capture.import_services import import_job_run
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.capture.helpers import HEADER, csv_bytes, good_rows, xlsx_bytes
from tests.conftest import add_member

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(client: APIClient, data: bytes, name: str = "leads.csv", **fields: Any) -> Any:
    body = {"file": io.BytesIO(data), **fields}
    body["file"].name = name
    return client.post("/api/v1/imports", body, format="multipart")


def _run(created: CreatedTenant, job_id: int) -> None:
    """What the worker does with the queued job (the worker's own test runs it in a real worker)."""
    import_job_run(tenant_id=created.tenant.id, job_id=job_id)


def test_an_upload_is_queued_then_done_with_counts_and_the_guessed_mapping(key_client, tenant_a) -> None:
    response = _upload(key_client, csv_bytes(good_rows(20)))
    assert response.status_code == 202
    assert response.json() == {"id": response.json()["id"], "status": "queued"}
    job_id = response.json()["id"]
    _run(tenant_a, job_id)
    body = key_client.get(f"/api/v1/imports/{job_id}").json()
    assert body["status"] == "done" and body["progress"] == 1 and body["rows"] == 20
    assert body["counts"] == {"created": 20, "merged": 0, "updated": 0, "quarantined": 0, "invalid": 0}
    assert body["mapping"] == {"姓名": "name", "手机号码": "mobile", "公司名称": "company", "Email": "email", "城市": "city"}
    assert body["error_report"] is None
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 20


def test_a_gbk_csv_with_ten_percent_bad_rows_imports_the_good_ones_and_reports_the_bad(key_client, tenant_a) -> None:
    rows = good_rows(90)
    bad = [[f"坏{i}", "12345", "", "", ""] for i in range(5)] + [["x" * 101, f"1580000{i:04d}", "", "", ""] for i in range(5)]
    response = _upload(key_client, csv_bytes(rows + bad, encoding="gbk"))
    assert response.status_code == 202
    _run(tenant_a, response.json()["id"])
    body = key_client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert body["counts"]["created"] == 90
    assert body["counts"]["quarantined"] == 5 and body["counts"]["invalid"] == 5
    report = key_client.get(body["error_report"])
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    text = report.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0][:3] == ["Line", "Result", "Reason"] and lines[0][3:] == HEADER
    assert [line[0] for line in lines[1:]] == [str(n) for n in range(92, 102)]
    assert "Mobile number is invalid" in lines[1][2] or "invalid" in lines[1][2].lower()
    assert lines[-1][2].startswith("Name:")
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 90


def test_a_dry_run_reports_outcomes_and_writes_nothing(key_client, tenant_a) -> None:
    response = _upload(key_client, csv_bytes(good_rows(10) + [["坏", "12345", "", "", ""]]), dry_run="true")
    _run(tenant_a, response.json()["id"])
    body = key_client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert body["dry_run"] is True and body["status"] == "done"
    assert body["counts"]["created"] == 10 and body["counts"]["quarantined"] == 1
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"%PDF-1.4 binary\x00\x01", "leads.pdf", "not a spreadsheet"),
        (b"PK\x03\x04not really a zip", "broken.xlsx", "not a spreadsheet"),
        (csv_bytes(good_rows(3), header=None), "noheader.csv", "looks like data"),
    ],
)
def test_a_file_that_cannot_be_imported_is_a_400_saying_why(key_client, tenant_a, data, name, message) -> None:
    response = _upload(key_client, data, name=name)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    with tenant_scope(tenant_a.tenant.id):
        from capture.import_models import ImportFile, ImportJob

        assert ImportJob.objects.count() == 0 and ImportFile.objects.count() == 0  # nothing half-written


def test_a_mapping_naming_an_unknown_field_or_column_is_a_400_per_column(key_client) -> None:
    mapping = {"姓名": "name", "手机号码": "mobiel", "传真": "phone"}
    response = _upload(key_client, csv_bytes(good_rows(3)), mapping=json.dumps(mapping, ensure_ascii=False))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "Unknown lead field 'mobiel'" in errors["mapping.手机号码"][0] or "mobiel" in errors["mapping.手机号码"][0]
    assert "传真" in errors["mapping.传真"][0]


def test_a_given_mapping_is_used_and_other_columns_are_left_out(key_client, tenant_a) -> None:
    mapping = {"姓名": "name", "手机号码": "mobile"}
    response = _upload(key_client, csv_bytes(good_rows(2)), mapping=json.dumps(mapping, ensure_ascii=False))
    assert response.status_code == 202
    _run(tenant_a, response.json()["id"])
    with tenant_scope(tenant_a.tenant.id):
        assert list(Lead.objects.values_list("company", flat=True)) == ["", ""]


def test_the_same_file_while_its_import_runs_is_a_409_naming_the_job(key_client) -> None:
    data = csv_bytes(good_rows(3))
    first = _upload(key_client, data)
    second = _upload(key_client, data)
    assert second.status_code == 409
    assert second.json()["import_id"] == first.json()["id"]
    assert _upload(key_client, data, dry_run="true").status_code == 202  # a dry run writes nothing: allowed


def test_an_xlsx_with_several_sheets_asks_which_and_reads_cached_values(key_client, tenant_a) -> None:
    rows: list[list[Any]] = [HEADER, *[[r[0], int(r[1]), r[2], r[3], r[4]] for r in good_rows(3)]]
    rows.append(["公式行", "=B2+1", "", "", ""])  # written by a program: no cached value
    data = xlsx_bytes({"说明": [["这是说明"]], "线索": rows}, merge=[("线索", "E2:E4")])
    response = _upload(key_client, data, name="leads.xlsx")
    assert response.status_code == 400 and "说明, 线索" in response.json()["errors"]["sheet"][0]
    response = _upload(key_client, data, name="leads.xlsx", sheet="线索")
    assert response.status_code == 202
    _run(tenant_a, response.json()["id"])
    body = key_client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert body["sheet"] == "线索" and body["counts"]["created"] == 3 and body["counts"]["invalid"] == 1
    with tenant_scope(tenant_a.tenant.id):  # the merged city (E2:E4) belongs to each of its rows
        assert sorted(Lead.objects.values_list("city", flat=True)) == ["上海"] * 3
    text = key_client.get(body["error_report"]).content.decode("utf-8")
    assert "=B2+1" in text and "has no saved result" in text


def test_a_file_over_the_limit_is_refused_and_the_limit_is_named(key_client) -> None:
    from capture import import_reader

    original = import_reader.MAX_IMPORT_BYTES
    import_reader.MAX_IMPORT_BYTES = 100
    try:
        response = _upload(key_client, csv_bytes(good_rows(10)))
    finally:
        import_reader.MAX_IMPORT_BYTES = original
    assert response.status_code == 400 and "exceeds the limit" in response.json()["detail"]


def test_a_rep_may_not_import(tenant_a) -> None:
    add_member(tenant_a, "rep@tenant-a.test", role=Role.REP)
    client = APIClient()
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(email="rep@tenant-a.test"))
    assert _upload(client, csv_bytes(good_rows(1))).status_code == 403


def test_another_tenants_import_is_a_404(key_client, tenant_b) -> None:
    other = APIClient()
    assert tenant_b.api_key is not None
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_b.api_key.raw_key}")
    job_id = _upload(other, csv_bytes(good_rows(1))).json()["id"]
    assert key_client.get(f"/api/v1/imports/{job_id}").status_code == 404
    assert key_client.get(f"/api/v1/imports/{job_id}/error-report").status_code == 404
    assert key_client.get("/api/v1/imports").json()["results"] == []


def test_the_list_filters_by_status_and_refuses_unknown_values(key_client, tenant_a) -> None:
    job_id = _upload(key_client, csv_bytes(good_rows(1))).json()["id"]
    assert [j["id"] for j in key_client.get("/api/v1/imports?status=queued").json()["results"]] == [job_id]
    assert key_client.get("/api/v1/imports?status=done").json()["results"] == []
    assert key_client.get("/api/v1/imports?status=nope").status_code == 400
    assert key_client.get("/api/v1/imports?dry_run=").status_code == 400


def test_a_50_mb_file_imports(key_client, tenant_a) -> None:
    """50 MB is within the limit (100 MB): here a thousand rows, each with a 50 kB attachment
    column that the mapping leaves out."""
    attachment = "附" * 17_500  # 52.5 kB in UTF-8
    header = ["姓名", "手机号码", "附件"]
    data = csv_bytes([[name, mobile, attachment] for name, mobile, *_ in good_rows(1000)], header=header)
    assert len(data) >= 50 * 1024 * 1024
    mapping = json.dumps({"姓名": "name", "手机号码": "mobile", "附件": ""}, ensure_ascii=False)
    response = _upload(key_client, data, mapping=mapping)
    assert response.status_code == 202
    _run(tenant_a, response.json()["id"])
    body = key_client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert body["status"] == "done" and body["counts"]["created"] == 1000


def test_a_csv_that_breaks_off_fails_with_the_line_and_keeps_the_batches_before(key_client, tenant_a) -> None:
    rows = good_rows(1200)
    data = csv_bytes(rows) + ("x," + "y" * 200_000 + "\r\n").encode()  # a cell over the csv module's limit
    response = _upload(key_client, data)
    assert response.status_code == 202
    _run(tenant_a, response.json()["id"])
    body = key_client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert body["status"] == "failed" and "Line 1202" in body["error"]


@pytest.mark.parametrize("mapping", [None, "-5045761121277046.0", "{}", '{"a": "name"}'])
def test_odd_uploads_are_400s(key_client, mapping) -> None:
    fields = {"sheet": "null"} if mapping is None else {"mapping": mapping, "sheet": "null"}
    response = _upload(key_client, "\ufffd;".encode(), name="file", **fields)
    assert response.status_code == 400
