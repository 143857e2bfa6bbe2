"""`GET /api/v1/leads/export`: the lead list as a file (CSV streamed, XLSX up to a cap), with
the list's own filters and scoping (leads/export.py). A mixin of `LeadViewSet`, so the export
runs the list's exact checks and query."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.request import Request

from leads.api.schema import LIST_PARAMETERS
from leads.export import (
    CSV_CONTENT_TYPE,
    EXPORT_FORMATS,
    XLSX_CONTENT_TYPE,
    XLSX_ROW_CAP,
    ExportTooLarge,
    LeadExport,
    export_filename,
    export_filters,
    lead_export_csv_stream,
    lead_export_xlsx,
)
from leads.filters import ORDERING_CHOICES, ordering_for
from leads.list_columns import DEFAULT_COLUMNS
from leads.selectors import lead_pool_names

FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=list(EXPORT_FORMATS), required=True,
    description=f"`csv` (UTF-8 with a byte-order mark, streamed, any number of rows) or `xlsx` (at most "
    f"{XLSX_ROW_CAP:,} rows; a larger list is a 400: narrow the filters or use `csv`).",
)
EXPORT_DESCRIPTION = (
    "Every lead of the list that `GET /api/v1/leads` would page through with the same filters and `ordering`, in "
    "one file: id, name, company, title, mobile, e-mail, status, score, grade (with the dynamic level), tier, "
    "source, region, owner, pool and creation time (in the tenant's time zone), with English headers and values. "
    "A member's session exports what that member may see (a rep: their own leads; masked pools stay masked); an "
    "API key exports whole contacts, as it reads them. Text cells starting with `=`, `+`, `-`, `@`, a tab or a "
    "carriage return are prefixed with `'` so that no spreadsheet runs them. Every export is audited."
)


class LeadExportMixin:
    """The export action of `LeadViewSet` (which provides the queryset, filters and masking)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # `format` names the file here, not a renderer (DRF's URL_FORMAT_OVERRIDE): errors are
        # still problem+json, whatever it says.
        # (Every method of the export's route: a TRACE must get its 405, not a renderer's 404.)
        if "export" in getattr(self, "action_map", {}).values():
            renderer = self.get_renderers()[0]  # type: ignore[attr-defined]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)  # type: ignore[misc]

    @extend_schema(
        summary="Export the lead list (CSV or XLSX)",
        description=EXPORT_DESCRIPTION,
        parameters=[FORMAT_PARAMETER, *(p for p in LIST_PARAMETERS if p.name != "page_size")],
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file, streamed."),
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The XLSX workbook."),
            400: OpenApiResponse(description="problem+json"),
            401: OpenApiResponse(description="problem+json"),
        },
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export(self, request: Request) -> HttpResponseBase:
        params = request.query_params
        file_format = params.get("format")
        if file_format not in EXPORT_FORMATS:
            raise exceptions.ValidationError({"format": [f"Use one of: {', '.join(EXPORT_FORMATS)}."]})
        ordering = params.get("ordering")
        if ordering is not None and ordering not in ORDERING_CHOICES:
            raise exceptions.ValidationError({"ordering": [f"Use one of: {', '.join(ORDERING_CHOICES)}."]})
        view: Any = self
        leads = view.filter_queryset(view.get_queryset())
        membership = view.membership
        pools = lead_pool_names()
        export = LeadExport(
            tenant=view.tenant, leads=leads, ordering=ordering_for(ordering),
            columns=DEFAULT_COLUMNS if pools else tuple(key for key in DEFAULT_COLUMNS if key != "pool"),
            viewer_id=membership.user_id if membership is not None else None,
            viewer_is_admin=membership is not None and membership.is_admin,
            masking_pool_ids=view._masking_pool_ids(), pool_names=pools, filters=export_filters(params),
            actor=view.acting_user, actor_api_key=view.acting_api_key,
        )
        filename = export_filename(tenant=view.tenant, file_format=file_format)
        if file_format == "csv":
            response = StreamingHttpResponse(lead_export_csv_stream(export=export), content_type=CSV_CONTENT_TYPE)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        try:
            workbook = lead_export_xlsx(export=export)
        except ExportTooLarge:
            raise exceptions.ValidationError(
                {"format": [f"More than {XLSX_ROW_CAP} leads match: narrow the filters or use format=csv."]}
            ) from None
        return FileResponse(workbook, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
