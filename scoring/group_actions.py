"""The recommended action per combined group (A1 … D3): the twelve defaults of a new tenant,
taken from the seed documents, the grid's reads and its one write (validated, audited).

The grade is the profile (static) fit, A best; the level is the behaviour (dynamic) intent, 1
most active. The seeds' advice: hot leads are called at once and routed to sales; a good
profile with little behaviour is nurtured with content and cases; much behaviour with a poor
profile is verified first so sales time is not misspent; low priority goes to a long-term,
low-frequency nurture pool rather than being dropped outright."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from leadcrm.tenancy.models import AuditLog, Tenant
from scoring.models import GroupAction, GroupActionCode

GRADES = ("A", "B", "C", "D")
LEVELS = (1, 2, 3)
MAX_TEXT_LENGTH = GroupAction._meta.get_field("text").max_length or 200
GROUP_ACTIONS_UPDATE_ACTION = "scoring.group_actions_update"

# (grade, level) → (code, text). Texts are stored as written here and translated on the page
# while they are still these words (gettext_noop marks them), as the rules' labels are.
DEFAULT_GROUP_ACTIONS: dict[tuple[str, int], tuple[str, str]] = {
    ("A", 1): ("call_now", gettext_noop("立即电话联系，当天安排产品演示")),
    ("A", 2): ("follow_up", gettext_noop("24 小时内电话跟进，发送同行业客户案例")),
    ("A", 3): ("nurture", gettext_noop("画像很好但还没有互动：用案例和白皮书培育，每周关注")),
    ("B", 1): ("call_now", gettext_noop("立即电话联系，确认需求和预算")),
    ("B", 2): ("follow_up", gettext_noop("三天内跟进，邀请参加线上研讨会")),
    ("B", 3): ("nurture", gettext_noop("自动化培育：定期推送白皮书和客户案例")),
    ("C", 1): ("verify", gettext_noop("互动活跃但画像一般：先核实公司和职位，再决定是否跟进")),
    ("C", 2): ("nurture", gettext_noop("营销培育，核实公司信息后再提高优先级")),
    ("C", 3): ("long_term", gettext_noop("放入长期培育池，定期发送行业资讯")),
    ("D", 1): ("verify", gettext_noop("互动很多但不符合目标客户：核实身份，避免资源错配")),
    ("D", 2): ("long_term", gettext_noop("放入长期培育池，低频触达")),
    ("D", 3): ("drop", gettext_noop("长期培育池低频触达；长期无回应可作废")),
}


def group_actions_defaults_install(*, tenant: Tenant) -> None:
    """A new tenant's twelve cells. Idempotent: cells that exist keep their text."""
    GroupAction.objects.bulk_create(
        [
            GroupAction(tenant=tenant, grade=grade, level=level, code=code, text=text)
            for (grade, level), (code, text) in DEFAULT_GROUP_ACTIONS.items()
        ],
        ignore_conflicts=True,
    )


def action_text(text: str) -> str:
    """The action in the request's language: a default's words translated, the tenant's own as written."""
    return gettext(text) if text else ""


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupActionCell:
    grade: str
    level: int
    code: str
    text: str  # as stored

    @property
    def group(self) -> str:
        return f"{self.grade}{self.level}"

    @property
    def words(self) -> str:
        return action_text(self.text)


def group_action_grid() -> dict[tuple[str, int], GroupActionCell]:
    """The current tenant's twelve cells (a default stands in for a missing one)."""
    cells = {
        key: GroupActionCell(grade=key[0], level=key[1], code=code, text=text)
        for key, (code, text) in DEFAULT_GROUP_ACTIONS.items()
    }
    for row in GroupAction.objects.values("grade", "level", "code", "text"):
        key = (row["grade"], row["level"])
        if key in cells:
            cells[key] = GroupActionCell(grade=row["grade"], level=row["level"], code=row["code"], text=row["text"])
    return cells


def group_action_for(*, grade: str, level: int) -> GroupActionCell | None:
    """The action of one group, for a scored lead's panel; None for a cell that cannot exist."""
    if (grade, level) not in DEFAULT_GROUP_ACTIONS:
        return None
    row = GroupAction.objects.filter(grade=grade, level=level).values("code", "text").first()
    if row is None:
        code, text = DEFAULT_GROUP_ACTIONS[(grade, level)]
        return GroupActionCell(grade=grade, level=level, code=code, text=text)
    return GroupActionCell(grade=grade, level=level, code=row["code"], text=row["text"])


# --- the write -----------------------------------------------------------------------------------


def field_name(grade: str, level: int, part: str) -> str:
    """The grid's form field of one cell: `A1_text`, `A1_code`; the API and the page share it."""
    return f"{grade}{level}_{part}"


@transaction.atomic
def group_actions_update(*, tenant: Tenant, actor: User | None, data: dict[str, Any]) -> list[str]:
    """Write the grid (`A1_text`, `A1_code` … `D3_code`); a cell left out keeps its value.
    Raises ValidationError naming each bad field and changes nothing then. Returns the groups
    that changed (audited as one entry)."""
    current = group_action_grid()
    errors: dict[str, list[str]] = {}
    wanted: dict[tuple[str, int], tuple[str, str]] = {}
    for (grade, level), cell in current.items():
        text_key, code_key = field_name(grade, level, "text"), field_name(grade, level, "code")
        text = str(data.get(text_key, cell.text)).strip()
        code = str(data.get(code_key, cell.code)).strip()
        if not text:
            errors.setdefault(text_key, []).append(gettext("请填写 %(group)s 组的建议动作。") % {"group": cell.group})
        elif len(text) > MAX_TEXT_LENGTH:
            errors.setdefault(text_key, []).append(
                gettext("最多 %(limit)s 个字，现在是 %(length)s 个。") % {"limit": MAX_TEXT_LENGTH, "length": len(text)}
            )
        if code not in GroupActionCode.values:
            errors.setdefault(code_key, []).append(gettext("请从列表中选择动作类型。"))
        wanted[(grade, level)] = (code, text)
    if errors:
        raise ValidationError(errors)
    changed = {key: value for key, value in wanted.items() if (current[key].code, current[key].text) != value}
    if not changed:
        return []
    GroupAction.objects.bulk_create(
        [GroupAction(tenant=tenant, grade=g, level=lv, code=code, text=text) for (g, lv), (code, text) in changed.items()],
        update_conflicts=True, unique_fields=["tenant", "grade", "level"], update_fields=["code", "text", "updated_at"],
    )
    groups = [f"{grade}{level}" for grade, level in changed]
    AuditLog.objects.create(
        tenant=tenant, actor=actor, action=GROUP_ACTIONS_UPDATE_ACTION, object_type="scoring.group_action",
        object_id="grid",
        changes={
            f"{g}{lv}": {"from": [current[(g, lv)].code, current[(g, lv)].text], "to": [code, text]}
            for (g, lv), (code, text) in changed.items()
        },
    )
    return groups
