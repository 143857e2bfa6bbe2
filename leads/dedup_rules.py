"""Duplicate rules (SPEC §3) as data: what a rule compares, against which records, within which
time window, and what happens to a submission it matches. Pure: no ORM, no I/O; the models,
the admin page, the API and intake's dedup stage all take their vocabulary and their checks
from here.

A tenant's rules are ordered. Intake matches each submission ONCE against the tenant's existing
records, rule by rule in position order; the first rule that matches decides, and its action is
applied directly to the records involved. No action re-runs matching (an update does not go
back through the rules, a collected submission does not become a lead that could match again),
so rules cannot form a cycle, whatever their order and actions.

Conditions are field names; every condition of a rule must hold for one record:
- `mobile`, `email`, `wechat`, `phone`: equal, as intake normalises them (E.164, lower case);
- `company`: the same company, fuzzily (`leads.matching.same_company`, through the tenant's
  company aliases);
- `name`: the same contact person (`leads.matching.person_name_key`). Not on its own: thousands
  of people are called 王伟.
An empty value never matches: a submission without an e-mail matches no e-mail rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# The tag a new lead gets when a rule links it to an existing record as its duplicate.
DUPLICATE_TAG = "疑似重复"
MAX_WINDOW_DAYS = 3650
NAME_MAX_LENGTH = 100


class DedupField(models.TextChoices):
    MOBILE = "mobile", _("手机")
    EMAIL = "email", _("邮箱")
    WECHAT = "wechat", _("微信")
    PHONE = "phone", _("座机")
    COMPANY = "company", _("公司（模糊匹配）")
    NAME = "name", _("联系人姓名")


# Compared by equality, each through its own index; the look-up anchors on the first of these
# a rule has (in this order: the most selective first).
EXACT_FIELDS: tuple[str, ...] = (DedupField.MOBILE, DedupField.EMAIL, DedupField.WECHAT, DedupField.PHONE)
FIELD_ORDER: tuple[str, ...] = tuple(DedupField.values)


class DedupCompareWith(models.TextChoices):
    LEADS = "leads", _("已有线索")
    CONTACTS = "contacts", _("客户联系人")
    BOTH = "both", _("线索和客户联系人")


class DedupAction(models.TextChoices):
    ROUTE_TO_OWNER = "route_to_owner", _("新建并交给原负责人跟进")
    ASSIGN = "assign", _("新建并按分配规则分配")
    COLLECT = "collect", _("归集到源线索（不新建）")
    UPDATE_AND_REOWN = "update_and_reown", _("更新原记录并改为客户负责人")
    TAG = "tag", _("仅标记为重复")


# Actions that make a new lead linked to what it duplicates (tagged DUPLICATE_TAG).
LINKING_ACTIONS = frozenset({DedupAction.ROUTE_TO_OWNER, DedupAction.ASSIGN, DedupAction.TAG})


@dataclass(frozen=True)
class RuleSpec:
    """One rule as stored (`leads.models.DedupRule`) and as intake applies it."""

    name: str
    conditions: tuple[str, ...]
    compare_with: str
    window_days: int | None  # None: any time
    action: str
    is_active: bool = True
    id: int | None = None
    position: int = 0

    @property
    def compares_leads(self) -> bool:
        return self.compare_with in (DedupCompareWith.LEADS, DedupCompareWith.BOTH)

    @property
    def compares_contacts(self) -> bool:
        return self.compare_with in (DedupCompareWith.CONTACTS, DedupCompareWith.BOTH)

    @property
    def exact_conditions(self) -> tuple[str, ...]:
        return tuple(field for field in EXACT_FIELDS if field in self.conditions)

    @property
    def identity(self) -> tuple[frozenset[str], str, int | None]:
        """What makes two rules the same rule: whichever comes second never gets to match."""
        return frozenset(self.conditions), self.compare_with, self.window_days


DEFAULT_RULES: tuple[RuleSpec, ...] = (
    # API.md "Defaults of a new tenant". Names are the tenant's data, written in its language
    # when it is created (leads.dedup_services.dedup_defaults_install).
    RuleSpec(name=gettext_noop("手机号相同（180 天内）"), conditions=("mobile",), compare_with=DedupCompareWith.LEADS,
             window_days=180, action=DedupAction.COLLECT),
    RuleSpec(name=gettext_noop("邮箱相同（180 天内）"), conditions=("email",), compare_with=DedupCompareWith.LEADS,
             window_days=180, action=DedupAction.COLLECT),
    RuleSpec(name=gettext_noop("公司相同且联系人相同（180 天内）"), conditions=("company", "name"),
             compare_with=DedupCompareWith.LEADS, window_days=180, action=DedupAction.ROUTE_TO_OWNER),
)


def conditions_canonical(conditions: Iterable[str]) -> tuple[str, ...]:
    """Known fields once each, in the fields' order (unknown ones are the validator's to report)."""
    given = set(conditions)
    return tuple(field for field in FIELD_ORDER if field in given)


def _as_window(value: Any) -> tuple[int | None, str | None]:
    """The window in days, or an error message."""
    if value in (None, ""):
        return None, None
    if isinstance(value, bool):
        return None, str(_("时间范围应为 1–%(max)d 天的整数，留空表示不限。") % {"max": MAX_WINDOW_DAYS})
    try:
        days = int(value)
    except (TypeError, ValueError):
        return None, str(_("时间范围应为 1–%(max)d 天的整数，留空表示不限。") % {"max": MAX_WINDOW_DAYS})
    if isinstance(value, float) and value != days:
        return None, str(_("时间范围应为 1–%(max)d 天的整数，留空表示不限。") % {"max": MAX_WINDOW_DAYS})
    if not 1 <= days <= MAX_WINDOW_DAYS:
        return None, str(_("时间范围应在 1 到 %(max)d 天之间，留空表示不限。") % {"max": MAX_WINDOW_DAYS})
    return days, None


def rule_spec_clean(data: dict[str, Any], *, others: Sequence[RuleSpec]) -> tuple[RuleSpec | None, dict[str, list[str]]]:
    """Check a rule as an admin or an integrator sent it (`name`, `conditions`, `compare_with`,
    `window_days`, `action`, `is_active`) against the tenant's other rules; the cleaned rule, or
    the problems by field (messages people can act on)."""
    errors: dict[str, list[str]] = {}
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [str(_("请给规则起个名字，例如“手机号相同”。"))]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [str(_("规则名称最多 %(max)d 个字符。") % {"max": NAME_MAX_LENGTH})]

    raw_conditions = data.get("conditions")
    conditions: tuple[str, ...] = ()
    if raw_conditions is None or raw_conditions == [] or raw_conditions == "":
        errors["conditions"] = [str(_("规则没有任何条件：请至少选择一个要比较的字段。"))]
    elif not isinstance(raw_conditions, (list, tuple)) or not all(isinstance(c, str) for c in raw_conditions):
        errors["conditions"] = [str(_("条件应为字段名的列表，例如 [\"company\", \"name\"]。"))]
    else:
        unknown = sorted({c for c in raw_conditions if c not in FIELD_ORDER})
        if unknown:
            errors["conditions"] = [
                str(_("未知字段：%(fields)s。可用的字段：%(allowed)s。") % {
                    "fields": "、".join(unknown), "allowed": ", ".join(FIELD_ORDER),
                })
            ]
        else:
            conditions = conditions_canonical(raw_conditions)
            if conditions == (DedupField.NAME,):
                errors["conditions"] = [
                    str(_("姓名不能单独作为条件：同名的人很多。请与公司或某个联系方式组合使用。"))
                ]

    compare_with = data.get("compare_with") or DedupCompareWith.LEADS
    if compare_with not in DedupCompareWith.values:
        errors["compare_with"] = [
            str(_("比较对象应为以下之一：%(allowed)s。") % {"allowed": ", ".join(DedupCompareWith.values)})
        ]
    action = data.get("action")
    if action not in DedupAction.values:
        errors["action"] = [str(_("处理方式应为以下之一：%(allowed)s。") % {"allowed": ", ".join(DedupAction.values)})]
    elif action == DedupAction.COLLECT and compare_with in (DedupCompareWith.CONTACTS, DedupCompareWith.BOTH):
        errors["action"] = [str(_("归集需要一条源线索来收下这次提交，比较对象请选“已有线索”。"))]

    window_days, window_error = _as_window(data.get("window_days"))
    if window_error:
        errors["window_days"] = [window_error]

    is_active = data.get("is_active", True)
    if not isinstance(is_active, bool):
        errors["is_active"] = [str(_("是否启用应为 true 或 false。"))]

    if errors:
        return None, errors
    spec = RuleSpec(
        name=name, conditions=conditions, compare_with=str(compare_with), window_days=window_days, action=str(action),
        is_active=bool(is_active), id=data.get("id"),
    )
    for other in others:
        if other.id is not None and other.id == spec.id:
            continue
        if other.name == spec.name:
            return None, {"name": [str(_("已有一条名为「%(name)s」的规则，请换个名字。") % {"name": other.name})]}
        if other.identity == spec.identity:
            return None, {"conditions": [
                str(_("与规则「%(name)s」的条件、比较对象和时间范围完全相同：排在后面的那条永远不会匹配。"
                      "请修改其中一条，或删除多余的一条。") % {"name": other.name})
            ]}
    return spec, {}


def condition_labels(conditions: Iterable[str]) -> list[str]:
    labels = dict(DedupField.choices)
    return [str(labels.get(condition, condition)) for condition in conditions]
