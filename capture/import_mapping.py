"""Which column of a file goes into which lead field.

Pure module, no ORM. A header is compared in a normal form (case, spaces, punctuation and
full-width letters do not matter); the tenant's remembered choices come first, then the
built-in Chinese and English names below. A target is a lead field (leads.fields) or
`custom.<key>` for a tenant's custom field; "" leaves the column out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from leads.fields import INPUT_FIELD_NAMES, LEAD_FIELDS

MAPPABLE_FIELDS = tuple(name for name in INPUT_FIELD_NAMES if name != "custom")
CUSTOM_PREFIX = "custom."
_CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "联系人", "联系人姓名", "客户姓名", "name", "full name", "contact", "contact name"),
    "mobile": ("手机", "手机号", "手机号码", "移动电话", "联系手机", "mobile", "mobile phone", "cell", "cellphone",
               "cell phone"),
    "phone": ("电话", "座机", "固定电话", "座机号码", "办公电话", "phone", "telephone", "tel", "landline"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址", "email", "e-mail", "mail", "email address"),
    "wechat": ("微信", "微信号", "wechat", "weixin", "wechat id"),
    "company": ("公司", "公司名称", "公司名", "单位", "单位名称", "企业", "企业名称", "company", "company name",
                "organization", "organisation"),
    "title": ("职位", "职务", "title", "job title", "position"),
    "industry": ("行业", "所属行业", "industry"),
    "company_size": ("公司规模", "企业规模", "规模", "人数", "company size", "employees"),
    "annual_revenue": ("年营收", "营收", "年收入", "营业额", "annual revenue", "revenue"),
    "province": ("省份", "省", "所在省份", "province", "state"),
    "city": ("城市", "市", "所在城市", "city"),
    "source": ("来源", "线索来源", "source", "lead source"),
    "campaign": ("营销活动", "活动", "活动名称", "campaign"),
    "utm_source": ("utm_source",),
    "utm_medium": ("utm_medium",),
    "utm_campaign": ("utm_campaign",),
    "external_id": ("外部编号", "外部id", "编号", "external id", "external_id"),
    "notes": ("备注", "说明", "notes", "note", "remark", "remarks", "comment", "comments"),
}
_PUNCTUATION = re.compile(r"[\s_\-:：*（）()\[\]【】./]+")


def header_key(header: str) -> str:
    """The form two headers are compared in: "电子邮箱 *", "E-Mail" and "email" meet."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", header).casefold())


_BUILT_IN: dict[str, str] = {}
for _field, _names in _SYNONYMS.items():
    for _name in (*_names, _field):
        _BUILT_IN.setdefault(header_key(_name), _field)
for _lead_field in LEAD_FIELDS:  # the labels the pages show, in both languages
    _BUILT_IN.setdefault(header_key(str(_lead_field.label)), _lead_field.name)


def mapping_guess(headers: Sequence[str], *, remembered: Mapping[str, str] | None = None) -> dict[str, str]:
    """A target for every header ("" when nothing fits); a field goes to its first column only."""
    remembered = remembered or {}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if not header or header in mapping:
            continue
        key = header_key(header)
        target = remembered.get(key, _BUILT_IN.get(key, ""))
        if target and target in taken:
            target = ""
        mapping[header] = target
        if target:
            taken.add(target)
    return mapping


def target_is_valid(target: str) -> bool:
    if target in MAPPABLE_FIELDS or target == "":
        return True
    return target.startswith(CUSTOM_PREFIX) and bool(_CUSTOM_KEY.match(target[len(CUSTOM_PREFIX):]))


MappingProblem = tuple[str, dict[str, str]]  # (code, params), worded by capture.import_messages


def mapping_problems(mapping: Mapping[str, object], *, headers: Sequence[str]) -> dict[str, list[MappingProblem]]:
    """What is wrong with a mapping given for these headers, by column header."""
    problems: dict[str, list[MappingProblem]] = {}
    seen: dict[str, str] = {}
    columns = ", ".join(h for h in headers if h)
    for header, target in mapping.items():
        if header not in headers:
            problems.setdefault(header, []).append(("unknown_column", {"column": header, "columns": columns}))
        if not isinstance(target, str):
            problems.setdefault(header, []).append(("target_not_text", {}))
            continue
        if not target_is_valid(target):
            problems.setdefault(header, []).append(
                ("unknown_field", {"field": target, "fields": ", ".join(MAPPABLE_FIELDS)})
            )
        elif target and target in seen:
            problems.setdefault(header, []).append(("field_twice", {"field": target, "column": seen[target]}))
        elif target:
            seen[target] = header
    return problems


def row_payload(cells: Sequence[str], *, columns: Sequence[tuple[int, str]]) -> dict[str, object]:
    """A row's non-empty mapped cells as intake fields; `columns` are (index, target)."""
    payload: dict[str, object] = {}
    custom: dict[str, str] = {}
    for index, target in columns:
        if index >= len(cells) or not (value := cells[index]):
            continue
        if target.startswith(CUSTOM_PREFIX):
            custom[target[len(CUSTOM_PREFIX):]] = value
        else:
            payload[target] = value
    if custom:
        payload["custom"] = custom
    return payload


_DATA_LIKE = re.compile(r"^(\+?86)?1[3-9]\d{9}$|^[^@\s]+@[^@\s]+\.[a-z]{2,}$|^\d[\d\s\-]{5,}$", re.IGNORECASE)


def header_looks_like_data(headers: Sequence[str]) -> bool:
    """A first row with a mobile number, an e-mail address or a long number reads as data:
    the file most likely has no header row."""
    return any(_DATA_LIKE.match(header.strip()) for header in headers if header)
