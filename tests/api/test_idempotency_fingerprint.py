"""The Idempotency-Key fingerprint of multipart bodies (file uploads): files count by content."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from leadcrm.api.idempotency import request_fingerprint


def _form(content: bytes, **fields: str) -> MultiValueDict[str, Any]:
    """As DRF's request.data for a multipart body: the fields and the files, each a list."""
    upload = SimpleUploadedFile("list.csv", content, content_type="text/csv")
    return MultiValueDict({**{name: [value] for name, value in fields.items()}, "file": [upload]})


def test_a_multipart_body_is_fingerprinted_by_its_fields_and_its_files_content():
    first = request_fingerprint(method="POST", path="/api/v1/blacklist/import", data=_form(b"13952816437\n", kind="phone"))
    same = request_fingerprint(method="POST", path="/api/v1/blacklist/import", data=_form(b"13952816437\n", kind="phone"))
    other_file = request_fingerprint(method="POST", path="/api/v1/blacklist/import", data=_form(b"spam.cn\n", kind="phone"))
    other_field = request_fingerprint(method="POST", path="/api/v1/blacklist/import", data=_form(b"13952816437\n", kind="keyword"))
    assert first == same
    assert len({first, other_file, other_field}) == 3


def test_the_file_can_still_be_read_after_fingerprinting():
    data = _form(b"13952816437\n")
    request_fingerprint(method="POST", path="/x", data=data)
    assert data.getlist("file")[0].read() == b"13952816437\n"
