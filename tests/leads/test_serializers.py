"""The lead input serializer's short path for plain strings gives what its fields would."""

from __future__ import annotations

from typing import Any, cast

import pytest
from rest_framework import serializers

from leads.api.serializers import LeadCreateInputSerializer

SERIALIZER = LeadCreateInputSerializer()
TEXT_VALUES: list[Any] = [
    "  王萱强 ", "", "   ", None, "a" * 100, "a" * 101, " " + "a" * 100 + " ", "a\x00b", "\ud800", "😀",
    "全角ＡＢＣ", 12, 1.5, True, [], {},
]


def field_result(name: str, value: Any) -> tuple[str, Any]:
    try:
        return "ok", SERIALIZER.fields[name].run_validation(value)
    except serializers.ValidationError as error:
        return "error", error.detail


def serializer_result(name: str, value: Any) -> tuple[str, Any]:
    try:
        return "ok", SERIALIZER.run_validation({name: value})[name]
    except serializers.ValidationError as error:
        return "error", cast(dict[str, Any], error.detail)[name]  # a serializer's errors are keyed by field


@pytest.mark.parametrize("value", TEXT_VALUES, ids=repr)
@pytest.mark.parametrize("name", ["name", "notes", "email"])
def test_text_fields_give_what_the_field_gives(name, value):
    assert serializer_result(name, value) == field_result(name, value)


def test_errors_of_known_and_unknown_fields_come_together():
    with pytest.raises(serializers.ValidationError) as caught:
        SERIALIZER.run_validation({"name": 12, "moblie": "15186570704", "annual_revenue": "lots"})
    detail = cast(dict[str, list[str]], caught.value.detail)  # field → its messages
    assert set(detail) == {"name", "moblie", "annual_revenue"}
    assert "Unknown field 'moblie'" in str(detail["moblie"][0])
