"""The lead's submitted fields, in one place (SPEC §2 "Fields").

Intake's input serializer, the output serializer, normalisation, cleansing, the search
columns and the pages take their field lists from here; `tests/leads/test_fields.py` fails
when the model, a serializer or the bench's loader disagrees with it. A new lead field is
added here first. Pure module: no ORM, no Django settings needed beyond gettext.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FieldKind = Literal["text", "decimal", "object"]


@dataclass(frozen=True)
class LeadField:
    name: str
    label: Promise | str  # what people read (the page, reports, error reports of imports)
    kind: FieldKind = "text"
    max_length: int | None = None  # of a submitted text value
    stored_length: int | None = None  # of the column, when it differs (normalised, or unlimited text)
    is_contact: bool = False  # a way to reach the person: a lead needs at least one
    is_scanned: bool = False  # checked for sensitive words
    is_searchable: bool = False  # in `search_text`, found by `q`


LEAD_FIELDS: tuple[LeadField, ...] = (
    LeadField("name", _("姓名"), max_length=100, is_scanned=True, is_searchable=True),
    LeadField("mobile", _("手机"), max_length=40, stored_length=20, is_contact=True, is_searchable=True),  # E.164
    LeadField("phone", _("座机"), max_length=40, is_contact=True, is_searchable=True),
    LeadField("email", _("邮箱"), max_length=254, is_contact=True, is_scanned=True),
    LeadField("wechat", _("微信"), max_length=64, is_contact=True, is_scanned=True, is_searchable=True),
    LeadField("company", _("公司"), max_length=200, is_scanned=True, is_searchable=True),
    LeadField("title", _("职位"), max_length=100, is_scanned=True),
    LeadField("industry", _("行业"), max_length=100, is_scanned=True),
    LeadField("company_size", _("公司规模"), max_length=50),
    LeadField("annual_revenue", _("年营收"), kind="decimal"),
    LeadField("province", _("省份"), max_length=50),
    LeadField("city", _("城市"), max_length=50),
    LeadField("source", _("来源"), max_length=50),
    LeadField("campaign", _("营销活动"), max_length=100, is_scanned=True),
    LeadField("utm_source", "utm_source", max_length=100),
    LeadField("utm_medium", "utm_medium", max_length=100),
    LeadField("utm_campaign", "utm_campaign", max_length=100),
    LeadField("external_id", _("外部编号"), max_length=100),
    LeadField("notes", _("备注"), max_length=5000, stored_length=0, is_scanned=True),  # 0: a TextField
    LeadField("custom", _("自定义字段"), kind="object"),
)

FIELDS_BY_NAME = {field.name: field for field in LEAD_FIELDS}
# Every field a channel may submit, in the order the pages show them.
INPUT_FIELD_NAMES = tuple(field.name for field in LEAD_FIELDS)
TEXT_FIELD_NAMES = tuple(field.name for field in LEAD_FIELDS if field.kind == "text")
CONTACT_FIELD_NAMES = tuple(field.name for field in LEAD_FIELDS if field.is_contact)
SCANNED_FIELD_NAMES = tuple(field.name for field in LEAD_FIELDS if field.is_scanned)
# `search_text` joins these in this order (stored data: existing rows were built this way).
SEARCH_TEXT_FIELD_NAMES = ("name", "company", "mobile", "wechat", "phone")
# The keys duplicate matching derives from company and name (leads.normalization.match_keys).
MATCH_KEY_FIELD_NAMES = ("company_key", "company_brand", "name_key")
# What intake writes to the lead row: the submitted fields plus the derived matching keys.
WRITABLE_FIELD_NAMES = (*INPUT_FIELD_NAMES[:6], *MATCH_KEY_FIELD_NAMES, *INPUT_FIELD_NAMES[6:])
