"""The lead list's optional columns: what a member may show or hide (saved views keep the
choice) and what an export writes. The name column is always there. Pure, no ORM."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# In the table's order. Keys are what `?cols=` and saved views store: never rename one.
LIST_COLUMNS: dict[str, Promise] = {
    "status": _("状态"),
    "score": _("评分"),
    "grade": _("等级"),
    "tier": _("热度"),
    "source": _("来源"),
    "region": _("地区"),
    "owner": _("负责人"),
    "pool": _("线索池"),
    "created_at": _("创建时间"),
}
DEFAULT_COLUMNS: tuple[str, ...] = tuple(LIST_COLUMNS)
COLUMNS_PARAM = "cols"


def columns_clean(values: Iterable[str]) -> tuple[str, ...]:
    """The known columns among `values`, in the table's order (unknown keys, say from a view
    saved by a later version, are dropped rather than failing the list)."""
    wanted = set(values)
    return tuple(key for key in LIST_COLUMNS if key in wanted)
