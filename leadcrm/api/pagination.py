from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: constant time at any depth, no COUNT(*) over the tenant."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:  # a mangled cursor is the client's bad input, not a missing page
            raise exceptions.ValidationError(
                {"cursor": ["Invalid cursor. Use the 'next' or 'previous' URL exactly as returned."]}
            ) from None


class DocumentedCursorPagination(CursorPagination):
    """Cursor pagination whose schema shows our envelope with an example URL of the list's own
    path (`example_path`), and whose `page_size` is checked (1 to 500; anything else is a 400)."""

    example_path = ""
    cursor_query_description = "A position in the list. Do not build it: request the `next` or `previous` URL as it is."
    page_size_query_description = "Items per page: 1 to 500; default 50."

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError({"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = f"https://crm.example.com/api/v1/{self.example_path}?cursor=cD0yMDI2LTExLTI4KzA0JTNBMzQ"
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string", "nullable": True, "format": "uri", "example": url,
                    "description": "The next page, with the same filters; null on the last page.",
                },
                "previous": {
                    "type": "string", "nullable": True, "format": "uri", "example": None,
                    "description": "The page before; null on the first page.",
                },
                "results": schema,
            },
        }
