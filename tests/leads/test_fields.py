"""The lead's field registry (leads/fields.py) and everything that lists lead fields agree."""

from __future__ import annotations

from django.db import models

from leads.api.serializers import LeadCreateInputSerializer, LeadOutputSerializer, StrictCharField
from leads.cleansing import CONTACT_FIELDS, SCANNED_TEXT_FIELDS
from leads.fields import (
    INPUT_FIELD_NAMES,
    LEAD_FIELDS,
    SEARCH_TEXT_FIELD_NAMES,
    TEXT_FIELD_NAMES,
    WRITABLE_FIELD_NAMES,
)
from leads.intake.dedup import lead_values
from leads.models import Lead
from leads.normalization import TEXT_FIELDS, normalise_lead, search_text
from tools import bench


def test_every_registered_field_is_a_model_column_of_the_right_size():
    for field in LEAD_FIELDS:
        column = Lead._meta.get_field(field.name)
        if field.kind == "text":
            stored = field.stored_length if field.stored_length is not None else field.max_length
            if stored == 0:
                assert isinstance(column, models.TextField), field.name
            else:
                assert isinstance(column, models.CharField) and column.max_length == stored, field.name
        elif field.kind == "decimal":
            assert isinstance(column, models.DecimalField), field.name
        else:
            assert isinstance(column, models.JSONField), field.name


def test_the_input_serializer_takes_exactly_the_registered_fields_with_their_limits():
    serializer_fields = LeadCreateInputSerializer().fields
    assert tuple(serializer_fields) == INPUT_FIELD_NAMES
    for field in LEAD_FIELDS:
        if field.kind == "text":
            declared = serializer_fields[field.name]
            assert isinstance(declared, StrictCharField) and declared.max_length == field.max_length, field.name


def test_the_output_shows_every_registered_field():
    assert set(INPUT_FIELD_NAMES) <= set(LeadOutputSerializer().fields)


def test_intake_normalisation_cleansing_and_search_take_their_lists_from_the_registry():
    assert set(lead_values({})) == set(WRITABLE_FIELD_NAMES)
    assert set(WRITABLE_FIELD_NAMES) == {*INPUT_FIELD_NAMES, "company_key", "company_brand", "name_key"}
    assert TEXT_FIELDS == TEXT_FIELD_NAMES
    assert set(normalise_lead({}).fields) >= set(INPUT_FIELD_NAMES)
    assert set(CONTACT_FIELDS) == {"mobile", "phone", "email", "wechat"}
    assert set(SCANNED_TEXT_FIELDS) == {f.name for f in LEAD_FIELDS if f.is_scanned}
    assert set(SEARCH_TEXT_FIELD_NAMES) == {f.name for f in LEAD_FIELDS if f.is_searchable}
    assert search_text({"name": "王伟", "wechat": "wx1", "title": "CTO"}) == "王伟 wx1"


def test_the_bench_loads_real_columns_and_posts_registered_fields():
    columns = {field.column for field in Lead._meta.concrete_fields}
    assert set(bench.LOAD_COLUMNS) <= columns
    import random

    payload = bench.lead_payload(1, random.Random(1), bench.make_pools())
    assert set(payload) <= set(INPUT_FIELD_NAMES)
