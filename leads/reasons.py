"""Quarantine reason codes (API.md: dotted, e.g. `blacklist.phone`) and how people read them.

Pure module, no ORM. A code names one check; the part before the dot is its family
(`blacklist`, `invalid`), so a filter by `blacklist` finds every `blacklist.<kind>`. A code
without a label here is still shown and filtered, as the code itself: a check added later
never makes a record unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REASON_LABELS: dict[str, Promise] = {
    "no_contact": _("无联系方式"),
    "invalid.mobile": _("手机号无效"),
    "invalid.phone": _("座机号无效"),
    "invalid.email": _("邮箱格式错误"),
    "sensitive_word": _("敏感词"),
    "blacklist.phone": _("黑名单：手机号"),
    "blacklist.email": _("黑名单：邮箱"),
    "blacklist.email_domain": _("黑名单：邮箱域名"),
    "blacklist.company": _("黑名单：公司"),
    "blacklist.keyword": _("黑名单：关键词"),
}
FAMILY_LABELS: dict[str, Promise] = {
    "blacklist": _("黑名单（全部）"),
    "invalid": _("联系方式无效（全部）"),
}


def reason_family(code: str) -> str:
    return code.split(".", 1)[0]


def reason_label(code: str) -> str:
    """What people read for a code, in the active language; an unknown code as it is."""
    if (label := REASON_LABELS.get(code)) is not None:
        return str(label)
    if (family := FAMILY_LABELS.get(code)) is not None:
        return str(family)
    return code


def reason_matches(code: str, wanted: str) -> bool:
    """`wanted` is the code itself or its family (`blacklist` matches `blacklist.phone`)."""
    return code == wanted or code.startswith(f"{wanted}.")


def reason_is_known(code: str) -> bool:
    return code in REASON_LABELS


def reason_filter_choices(present: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The codes a list can be filtered by: every family, every labelled code, and the codes
    that are in the data (`present`) though not labelled, each with its label."""
    codes = [*FAMILY_LABELS, *REASON_LABELS, *sorted(set(present) - REASON_LABELS.keys() - FAMILY_LABELS.keys())]
    return [(code, reason_label(code)) for code in codes]
