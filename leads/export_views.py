"""The lead list's export (CSV streamed, XLSX as a file): the page's own query, as its reader
sees it. The export itself is leads/export.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.export import (
    CSV_CONTENT_TYPE,
    EXPORT_FORMATS,
    XLSX_CONTENT_TYPE,
    ExportTooLarge,
    LeadExport,
    export_filename,
    export_filters,
    lead_export_csv_stream,
    lead_export_xlsx,
)
from leads.saved_views import VIEW_PARAM, list_columns_for, saved_view_get
from leads.views import _query_with_aliases, lead_list_query


def _back_to_list(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    query = request.GET.copy()
    query.pop("format", None)
    return redirect(f"{reverse('leads:list', kwargs={'tenant_slug': tenant_slug})}?{query.urlencode()}")


@require_GET
@tenant_member_required
def lead_export_download(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    file_format = request.GET.get("format", "csv")
    if file_format not in EXPORT_FORMATS:
        messages.error(request, _("不支持导出为「%(format)s」，请选择 CSV 或 Excel。") % {"format": file_format[:20]})
        return _back_to_list(request, tenant_slug)
    query = _query_with_aliases(request.GET)
    listed = lead_list_query(request, query)
    view_id = query.get(VIEW_PARAM, "")
    view = saved_view_get(view_id=int(view_id), membership=request.membership) if view_id.isdigit() else None
    columns = list_columns_for(query=query, view=view)
    if not listed.pools:
        columns = tuple(key for key in columns if key != "pool")
    export = LeadExport(
        tenant=request.tenant, leads=listed.leads, ordering=listed.ordering, columns=columns,
        viewer_id=request.user.id, viewer_is_admin=request.membership.is_admin,
        masking_pool_ids=listed.masking_pool_ids, pool_names=listed.pools, filters=export_filters(query),
        actor=request.user,
    )
    filename = export_filename(tenant=request.tenant, file_format=file_format)
    if file_format == "csv":
        response: HttpResponse = StreamingHttpResponse(  # type: ignore[assignment]  # streamed, not buffered
            lead_export_csv_stream(export=export), content_type=CSV_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Accel-Buffering"] = "no"  # a proxy must pass the stream on, not collect it
        return response
    try:
        workbook = lead_export_xlsx(export=export)
    except ExportTooLarge as error:
        messages.error(
            request,
            _("Excel 一次最多导出 %(limit)s 条线索。请缩小筛选范围，或改用 CSV（不限条数）。") % {"limit": f"{error.args[0]:,}"},
        )
        return _back_to_list(request, tenant_slug)
    return FileResponse(  # type: ignore[return-value]  # a file answer; the decorator knows only HttpResponse
        workbook, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
