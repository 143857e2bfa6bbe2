"""OPTIONS answers for every endpoint: name, description, what it renders and parses, and the
fields of its input where a view names a serializer. Views that read their body by hand (the
pools, rules and lead actions) have no serializer to describe; they answer without `actions`
rather than failing (the OpenAPI schema at /api/v1/schema/ documents every body)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # DRF's views import this module through its settings
    from rest_framework.views import APIView


class EndpointMetadata(SimpleMetadata):
    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        if getattr(view, "serializer_class", None) is None and "get_serializer_class" not in type(view).__dict__:
            return {}
        return super().determine_actions(request, view)
