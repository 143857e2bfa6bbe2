from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON that PostgreSQL can keep: no NUL characters and no unpaired surrogates (jsonb and
    UTF-8 text refuse both, which would otherwise surface as a server error after parsing)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        try:
            text = json.dumps(data, ensure_ascii=False)
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("The body contains an unpaired UTF-16 surrogate (\\ud800–\\udfff).") from None
        if "\x00" in text or "\\u0000" in text:
            raise ParseError("The body contains a NUL character (\\u0000), which cannot be stored.")
        return data
