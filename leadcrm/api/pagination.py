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
