"""The import pages (导入线索): upload a CSV or XLSX, map its columns (guessed, remembered per
tenant), dry-run it to see what each row will become, then import it in the background with a
progress bar, a summary by outcome and the error report. Admins and managers only."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from capture.import_mapping import MAPPABLE_FIELDS, mapping_guess
from capture.import_messages import mapping_problem_message, outcome_label, problem_message, refusal_message
from capture.import_models import OUTCOMES, ImportFile, ImportJob, ImportStatus
from capture.import_reader import MAX_IMPORT_BYTES, ImportFileError, rows_read
from capture.import_report import error_report_response
from capture.import_selectors import import_file_get, import_has_error_rows, import_job_get, import_job_list
from capture.import_services import (
    IMPORT_ROLES,
    ImportAlreadyRunning,
    ImportRefused,
    file_facts,
    import_file_open,
    import_file_store,
    import_job_start,
    mapping_remembered,
)
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.fields import FIELDS_BY_NAME

SAMPLE_ROWS = 3
KIND_CHOICES = [("", _("全部类型")), ("import", _("导入")), ("dry_run", _("试运行"))]
SORT_CHOICES = [("-created", _("最新在前")), ("created", _("最早在前"))]


def import_role_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: TenantHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership.role not in IMPORT_ROLES:
            return render(request, "capture/import_forbidden.html", {"nav_active": "imports"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("文件"), error_messages={"required": _("请选择要导入的 CSV 或 XLSX 文件。")},
        allow_empty_file=True,  # an empty file gets our own message
    )


class ImportListForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", _("全部状态")), *ImportStatus.choices])
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)


@require_http_methods(["GET", "POST"])
@tenant_member_required
@import_role_required
def imports_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    upload = UploadForm()
    status = 200
    if request.method == "POST":
        upload = UploadForm(request.POST, request.FILES)
        if upload.is_valid():
            uploaded: UploadedFile = upload.cleaned_data["file"]
            try:
                file = import_file_store(
                    tenant=request.tenant, stream=uploaded, name=uploaded.name or "upload", size=uploaded.size or 0,
                    uploaded_by=request.user,
                )
            except ImportRefused as error:
                upload.add_error("file", refusal_message(error.code, error.params))
            else:
                return HttpResponseRedirect(reverse("capture:import-file", kwargs={"tenant_slug": tenant_slug, "file_id": file.id}))
        status = 400
    filters = ImportListForm(request.GET)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    kind = cleaned.get("kind") or ""
    jobs = import_job_list(status=cleaned.get("status") or "", is_dry_run=None if not kind else kind == "dry_run")
    if cleaned.get("sort") == "created":
        jobs = jobs.order_by("created_at", "id")
    page = Paginator(jobs, per_page=25).get_page(request.GET.get("page"))
    context = {
        "upload": upload, "filters": filters, "page": page, "nav_active": "imports",
        "max_megabytes": MAX_IMPORT_BYTES // 1024 // 1024, "list_url": request.path,
        "status_choices": [("", _("全部状态")), *ImportStatus.choices], "kind_choices": KIND_CHOICES,
        "sort_choices": SORT_CHOICES,
    }
    template = "capture/imports.html#import-list" if request.htmx and request.method == "GET" else "capture/imports.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class ColumnRow:
    index: int
    header: str
    target: str
    samples: list[str]
    errors: list[str]


def _field_choices() -> list[tuple[str, str]]:
    return [("", gettext("（不导入）")), *((name, str(FIELDS_BY_NAME[name].label)) for name in MAPPABLE_FIELDS)]


def _file_preview(file: ImportFile, sheet: str) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows of the file (or sheet)."""
    with import_file_open(file=file) as stream, closing(rows_read(stream, facts=file_facts(file), sheet=sheet)) as rows:
        header: list[str] = []
        samples: list[list[str]] = []
        for row in rows:
            if not header:
                header = row.cells
                continue
            samples.append(row.cells)
            if len(samples) == SAMPLE_ROWS:
                break
    return header, samples


@require_http_methods(["GET", "POST"])
@tenant_member_required
@import_role_required
def import_file_page(request: TenantHttpRequest, tenant_slug: str, file_id: int) -> HttpResponse:
    """Choose the sheet and map the columns, then dry-run or import."""
    file = import_file_get(file_id=file_id)
    if file is None:
        raise Http404("No such file.")
    data = request.POST if request.method == "POST" else request.GET
    sheet = data.get("sheet", "")
    if file.kind == "xlsx" and sheet not in file.sheets:
        sheet = file.sheets[0] if len(file.sheets) == 1 else ""
    general_error = ""
    sheet_error = ""
    problems: dict[str, list[str]] = {}
    running_job: int | None = None
    header: list[str] = []
    samples: list[list[str]] = []
    if file.kind == "csv" or sheet:
        try:
            header, samples = _file_preview(file, sheet)
        except ImportFileError as error:
            general_error = refusal_message(error.code, error.params)
    elif file.kind == "xlsx":
        sheet_error = gettext("这个 XLSX 文件有多个工作表，请选择要导入的一个。")
    posted_mapping: dict[str, str] | None = None
    if request.method == "POST" and header:
        posted_mapping = {h: data.get(f"column-{i}", "") for i, h in enumerate(header) if h}
        is_dry_run = data.get("action") != "import"
        try:
            job = import_job_start(
                tenant=request.tenant, file=file, mapping=posted_mapping, sheet=sheet,
                source=data.get("source", "").strip(), is_dry_run=is_dry_run, created_by=request.user,
                language=get_language() or "zh-hans",
            )
        except ImportRefused as error:
            message = refusal_message(error.code, error.params)
            if error.code in ("unknown_sheet", "choose_sheet"):
                sheet_error = message
            else:
                general_error = message
            problems = {h: [mapping_problem_message(p) for p in ps] for h, ps in error.problems.items()}
        except ImportAlreadyRunning as error:
            running_job = error.job_id
            general_error = gettext("这个文件正在导入中（导入 #%(id)s）。请等它完成：再导入一次会把每一行都再归集一遍。") % {"id": error.job_id}
        else:
            return HttpResponseRedirect(reverse("capture:import-job", kwargs={"tenant_slug": tenant_slug, "import_id": job.id}))
    guessed = posted_mapping if posted_mapping is not None else mapping_guess(header, remembered=mapping_remembered())
    columns = [
        ColumnRow(
            index=i, header=h, target=guessed.get(h, ""), samples=[row[i] if i < len(row) else "" for row in samples],
            errors=problems.get(h, []),
        )
        for i, h in enumerate(header) if h
    ]
    context = {
        "file": file, "sheet": sheet, "columns": columns, "field_choices": _field_choices(), "general_error": general_error,
        "sheet_error": sheet_error, "running_job": running_job, "source": data.get("source", ""),
        "nav_active": "imports", "has_header": bool(header),
    }
    return render(request, "capture/import_file.html", context, status=400 if general_error or sheet_error else 200)


@dataclass(frozen=True)
class PreviewRow:
    line: int
    outcome: str
    outcome_label: str
    summary: str  # the row's first cells
    detail: str  # reasons, errors, or the lead it goes into
    lead_id: int | None


def _preview_rows(job: ImportJob) -> list[PreviewRow]:
    rows = []
    for entry in job.preview:
        lead = entry.get("lead") or {}
        detail = "; ".join(problem_message(problem, headers=job.headers) for problem in entry.get("problems", []))
        if lead and not detail:
            detail = gettext("线索 #%(id)s %(name)s") % {"id": lead.get("id"), "name": lead.get("name", "")}
        rows.append(PreviewRow(
            line=int(entry["line"]), outcome=str(entry["outcome"]), outcome_label=outcome_label(str(entry["outcome"])),
            summary=" · ".join(cell for cell in entry.get("cells", [])[:4] if cell), detail=detail,
            lead_id=lead.get("id"),
        ))
    return rows


@require_GET
@tenant_member_required
@import_role_required
def import_job_page(request: TenantHttpRequest, tenant_slug: str, import_id: int) -> HttpResponse:
    job = import_job_get(job_id=import_id)
    if job is None:
        raise Http404("No such import.")
    context = {
        "job": job, "nav_active": "imports", "counts": [(o, outcome_label(o), job.counts[o]) for o in OUTCOMES],
        "preview": _preview_rows(job) if job.is_dry_run else [], "has_errors": import_has_error_rows(job=job),
        "mapped": [  # in the file's column order (the mapping is stored as jsonb, which keeps no order)
            (h, str(FIELDS_BY_NAME[t].label) if t in FIELDS_BY_NAME else t)
            for h in job.headers if (t := job.mapping.get(h))
        ],
    }
    template = "capture/import_job.html#import-progress" if request.htmx else "capture/import_job.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@tenant_member_required
@import_role_required
def import_error_report(request: TenantHttpRequest, tenant_slug: str, import_id: int) -> HttpResponse:
    """The rows not imported with their reasons, in the reader's language."""
    job = import_job_get(job_id=import_id)
    if job is None:
        raise Http404("No such import.")
    return error_report_response(job)
