"""Pure checks that decide whether a submission is quarantined (SPEC §3). No ORM."""

from __future__ import annotations

from collections.abc import Iterable

from leads.fields import CONTACT_FIELD_NAMES, SCANNED_FIELD_NAMES

# A small built-in lexicon; tenants add their own words (blacklists arrive with cleansing).
BUILTIN_SENSITIVE_WORDS: tuple[str, ...] = (
    "代开发票", "发票代开", "赌博", "博彩", "六合彩", "裸聊", "色情", "贷款包过", "套现", "洗钱",
    "枪支", "毒品", "冰毒", "办证", "刷单", "传销", "高仿", "私彩", "fuck", "viagra",
)

CONTACT_FIELDS = CONTACT_FIELD_NAMES
SCANNED_TEXT_FIELDS = SCANNED_FIELD_NAMES


def sensitive_words_found(fields: dict[str, object], words: Iterable[str]) -> list[str]:
    haystack = " ".join(str(fields.get(name) or "") for name in SCANNED_TEXT_FIELDS).lower()
    return [word for word in words if word and word.lower() in haystack]


def has_contact(fields: dict[str, object]) -> bool:
    return any(fields.get(name) for name in CONTACT_FIELDS)
