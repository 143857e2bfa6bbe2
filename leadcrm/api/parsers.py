from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from leadcrm.api.exceptions import ApiProblem

# Objects and arrays within each other. A lead is two levels deep, a bulk body four; deeper
# input is no lead, and at about a thousand levels Python's recursion (in the parser, in
# json.dumps, in PostgreSQL's jsonb) gives up with an error of its own.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` deep (the outermost one is depth 1).
    A loop with its own stack, not recursion, so any depth is measured safely."""
    if type(data) is not dict and type(data) is not list:
        return False
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _too_deep() -> ApiProblem:
    return ApiProblem(
        status_code=400,
        detail=f"The body is nested too deeply: at most {MAX_JSON_DEPTH} levels of objects and arrays.",
    )


class StrictJSONParser(JSONParser):
    """JSON that PostgreSQL can keep: no NUL characters, no unpaired surrogates (jsonb and
    UTF-8 text refuse both, which would otherwise surface as a server error after parsing) and
    no nesting deeper than MAX_JSON_DEPTH."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise _too_deep()
        try:
            text = json.dumps(data, ensure_ascii=False)
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("The body contains an unpaired UTF-16 surrogate (\\ud800–\\udfff).") from None
        if "\x00" in text or "\\u0000" in text:
            raise ParseError("The body contains a NUL character (\\u0000), which cannot be stored.")
        return data
