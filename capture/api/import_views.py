"""/api/v1/imports: upload a file to import (or dry-run), follow the job, fetch its error report."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from capture.api.import_serializers import ImportCreatedSerializer, ImportCreateInputSerializer, ImportOutputSerializer
from capture.import_messages import mapping_problem_message, refusal_message
from capture.import_models import ImportJob, ImportStatus
from capture.import_reader import MAX_IMPORT_BYTES
from capture.import_report import error_report_response
from capture.import_selectors import import_has_error_rows, import_job_list
from capture.import_services import (
    IMPORT_ROLES,
    ImportAlreadyRunning,
    ImportRefused,
    import_file_store,
    import_job_start,
)
from leadcrm.api.exceptions import problem_response
from leadcrm.api.pagination import DocumentedCursorPagination
from leadcrm.api.views import TenantScopedViewSet

PROBLEM = OpenApiResponse(description="problem+json")
_IMPORT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the import.")
_STATUS = OpenApiParameter("status", OpenApiTypes.STR, enum=ImportStatus.values, description="Only jobs in this status.")
_DRY_RUN = OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="true: dry runs only; false: imports only.")


class ImportCursorPagination(DocumentedCursorPagination):
    example_path = "imports"


def import_body(job: ImportJob, *, request: Request) -> dict[str, Any]:
    report = None
    if import_has_error_rows(job=job):
        report = request.build_absolute_uri(reverse("import-error-report", kwargs={"pk": job.id}))
    return {
        "id": job.id, "status": job.status, "progress": round(job.progress, 4), "rows": job.rows_total or 0,
        "counts": job.counts, "mapping": {header: job.mapping[header] for header in job.headers if header in job.mapping}, "error_report": report, "dry_run": job.is_dry_run,
        "file_name": job.file.name, "sheet": job.sheet, "sheets": job.file.sheets, "source": job.source,
        "error": job.error, "created_at": job.created_at, "finished_at": job.finished_at,
    }


@extend_schema_view(
    list=extend_schema(
        summary="List imports", parameters=[_STATUS, _DRY_RUN],
        responses={200: ImportOutputSerializer(many=True), 400: PROBLEM, 403: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="Get one import", parameters=[_IMPORT_ID], responses={200: ImportOutputSerializer, 403: PROBLEM, 404: PROBLEM},
    ),
)
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """File imports: every row goes through the same intake as `POST /api/v1/leads` (channel `import`)."""

    serializer_class = ImportOutputSerializer
    pagination_class = ImportCursorPagination
    filter_backends: list[Any] = []
    parser_classes = [MultiPartParser]  # the only body is the upload's form
    required_scopes = {"GET": "read", "HEAD": "read", "POST": "leads:write"}
    body_required_actions = frozenset({"create"})
    lookup_value_regex = r"[0-9]{1,18}"
    max_body_bytes = MAX_IMPORT_BYTES + 1_000_000  # the file and a few form fields

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.membership is not None and self.membership.role not in IMPORT_ROLES:
            raise exceptions.PermissionDenied("Only the workspace's owner, admins and managers can import leads.")

    def get_queryset(self) -> QuerySet[ImportJob]:
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.all_tenants.none()
        if self.action != "list":
            return import_job_list()
        params = self.request.query_params
        empty = {name: ["Must not be empty: give a value or leave the parameter out."]
                 for name in ("status", "dry_run") if params.get(name) == ""}
        if empty:
            raise exceptions.ValidationError(empty)
        wanted_status = params.get("status", "")
        if wanted_status and wanted_status not in ImportStatus.values:
            raise exceptions.ValidationError({"status": [f"Use one of: {', '.join(ImportStatus.values)}."]})
        raw_dry_run = params.get("dry_run")
        if raw_dry_run is not None and raw_dry_run not in ("true", "false"):
            raise exceptions.ValidationError({"dry_run": ["Use true or false."]})
        return import_job_list(
            status=wanted_status, is_dry_run=None if raw_dry_run is None else raw_dry_run == "true"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        assert page is not None
        return self.get_paginated_response([import_body(job, request=request) for job in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(import_body(self.get_object(), request=request))

    @extend_schema(
        summary="Import a CSV or XLSX file of leads",
        request={"multipart/form-data": ImportCreateInputSerializer},
        responses={
            202: ImportCreatedSerializer,
            400: OpenApiResponse(description="problem+json: nothing was started. `errors.file` says what is wrong "
                                 "with the file; `errors.mapping.<column>` with a column's mapping."),
            403: PROBLEM,
            409: OpenApiResponse(description="problem+json: the same file is being imported; `import_id` is that job."),
            413: PROBLEM, 415: PROBLEM, 422: PROBLEM,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = ImportCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        upload = data["file"]
        try:
            file = import_file_store(
                tenant=self.tenant, stream=upload, name=upload.name or "upload", size=upload.size or 0,
                uploaded_by=self.acting_user,
            )
            job = import_job_start(
                tenant=self.tenant, file=file, stream=upload, mapping=data.get("mapping"), sheet=data["sheet"],
                source=data["source"], is_dry_run=data["dry_run"], created_by=self.acting_user, language="en",
            )
        except ImportRefused as error:
            return refused_response(error)
        except ImportAlreadyRunning as error:
            response = problem_response(
                status_code=409,
                detail=f"This file is being imported already (import {error.job_id}). Wait for it to finish: "
                "importing it again would collect every row a second time.",
            )
            response.data["import_id"] = error.job_id
            return response
        return Response({"id": job.id, "status": job.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download an import's error report (CSV)", parameters=[_IMPORT_ID],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, 403: PROBLEM, 404: PROBLEM},
    )
    @action(detail=True, methods=["get"], url_path="error-report", url_name="error-report")
    def error_report(self, request: Request, pk: str | None = None) -> HttpResponse:
        job = self.get_object()
        return error_report_response(job)


def refused_response(error: ImportRefused) -> Response:
    detail = refusal_message(error.code, error.params)
    if error.code == "mapping":
        errors: dict[str, Any] = {
            f"mapping.{header}": [mapping_problem_message(problem) for problem in problems]
            for header, problems in error.problems.items()
        }
    elif error.code in ("unknown_sheet", "choose_sheet"):
        errors = {"sheet": [detail]}
    elif error.code in ("no_header", "nothing_mapped"):
        errors = {"mapping": [detail]}
    else:
        errors = {"file": [detail]}
    return problem_response(status_code=400, detail=detail, errors=errors)
