"""Editing a lead's fields by hand (the lead page's edit form, `PATCH /api/v1/leads/{id}`).

One service for both: the fields a role may change, contacts normalised and judged exactly as
intake judges them (`normalise_lead`, the same validity reasons), the matching and search keys
kept in step, a refused stale form, one audit row with before and after per field, and a
signal after commit so scoring can rescore (leads never imports scoring).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leadcrm.tenancy.models import ApiKey, AuditLog, Membership, Role, Tenant
from leads.cleansing import has_contact
from leads.fields import CONTACT_FIELD_NAMES, FIELDS_BY_NAME, MATCH_KEY_FIELD_NAMES
from leads.models import LEAD_EDIT_ACTION, Lead
from leads.normalization import match_keys, normalise_lead, search_columns
from leads.selectors import lead_visible_to
from leads.signals import lead_fields_changed_announce

# Contact and profile fields: what a rep may change on their own leads.
PROFILE_FIELD_NAMES = (
    "name", "mobile", "phone", "email", "wechat", "company", "title", "industry", "company_size", "annual_revenue",
    "province", "city", "notes",
)
# Managers and admins may also correct the campaign a lead is credited to.
MANAGER_FIELD_NAMES = (*PROFILE_FIELD_NAMES, "campaign")
# Set by the channel that brought the lead, never by hand: the API finds a lead by its source and
# external id (and they are unique together), and attribution credits source and UTM parameters.
READ_ONLY_FIELD_NAMES = ("source", "external_id", "utm_source", "utm_medium", "utm_campaign")
READ_ONLY_REASON = _("来源、外部编号和 UTM 参数由带来线索的渠道写入：API 按来源和外部编号找到线索，营销归因按来源和 UTM 计算，所以不能手动修改。")
CONTACT_PROBLEMS = {
    "invalid.mobile": ("mobile", _("这不是有效的手机号，请检查后重新输入（例如 139 1234 5678）。")),
    "invalid.phone": ("phone", _("这不是有效的座机号码，请带上区号（例如 021-6234 5678）。")),
    "invalid.email": ("email", _("这不是有效的邮箱地址（例如 zhang.wei@163.com）。")),
}
NO_CONTACT_MESSAGE = _("至少保留一种联系方式：手机、座机、邮箱或微信。")


class LeadEditNotFound(Exception):
    """No such lead for this member: another tenant's, another rep's, or none at all."""


class LeadEditForbidden(Exception):
    """The member's role may not edit leads (read-only)."""


class LeadEditStale(Exception):
    """Someone changed the lead after the form was opened."""

    def __init__(self, lead: Lead) -> None:
        super().__init__("The lead changed since it was read.")
        self.lead = lead


@dataclass
class LeadEdit:
    lead: Lead
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {"from", "to"}


def lead_editable_field_names(*, membership: Membership | None) -> tuple[str, ...]:
    """The fields `membership` may change (None: an API key, which an admin made and scoped)."""
    if membership is None or membership.role in (Role.OWNER, Role.ADMIN, Role.MANAGER):
        return MANAGER_FIELD_NAMES
    if membership.role == Role.REP:
        return PROFILE_FIELD_NAMES
    return ()


def _stored(name: str, value: Any) -> Any:
    """A value as the column keeps it, for comparing and auditing."""
    if name == "annual_revenue":
        if value in (None, ""):
            return None
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            return value
    return "" if value is None else value


def _audited(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def lead_contact_problems(values: dict[str, Any], sent: set[str]) -> dict[str, list[str]]:
    """Intake's own judgement of a lead's contacts (the same normalisation and validity reasons),
    as messages next to the fields among `sent` that a person typed: where intake would
    quarantine a lead for them, a person at a form can fix them at once."""
    normalised = normalise_lead(values)
    errors: dict[str, list[str]] = {}
    for problem in (normalised.mobile_problem, normalised.phone_problem, normalised.email_problem):
        if problem and (where := CONTACT_PROBLEMS.get(problem)) and where[0] in sent:
            errors[where[0]] = [str(where[1])]
    if not has_contact(normalised.fields):
        target = next((name for name in ("mobile", "email", "wechat", "phone") if name in sent), "mobile")
        errors.setdefault(target, []).append(str(NO_CONTACT_MESSAGE))
    return errors


@transaction.atomic
def lead_update(
    *,
    tenant: Tenant,
    lead_id: int,
    membership: Membership | None,
    actor: User | None,
    changes: dict[str, Any],
    api_key: ApiKey | None = None,
    expected_updated_at: dt.datetime | None = None,
    contacts_hidden: bool = False,
) -> LeadEdit:
    """Change the lead's fields that `changes` names (`contacts_hidden`: the caller reads the
    lead's contacts masked, so may not change them). Raises LeadEditNotFound, LeadEditForbidden,
    LeadEditStale (when `expected_updated_at` is given and the lead changed since) or a
    ValidationError naming each bad field; nothing is written then. Inside `tenant_scope`."""
    lead = lead_visible_to(membership=membership).select_for_update(of=("self",)).filter(id=lead_id).first()
    if lead is None:
        raise LeadEditNotFound
    allowed = lead_editable_field_names(membership=membership)
    if not allowed:
        raise LeadEditForbidden
    refused = {
        name: [gettext("这个字段不能修改。") if name in FIELDS_BY_NAME else gettext("没有这个字段。")]
        for name in changes if name not in allowed
    }
    if contacts_hidden:  # the member reads this lead's contacts masked: they may not rewrite them either
        refused.update({
            name: [gettext("这条线索的联系方式对你隐藏，只有负责人和管理员可以修改。")]
            for name in changes if name in CONTACT_FIELD_NAMES
        })
    if refused:
        raise ValidationError(refused)
    if expected_updated_at is not None and lead.updated_at != expected_updated_at:
        raise LeadEditStale(lead)

    current = {name: getattr(lead, name) for name in allowed}
    values = {**current, **changes}
    values["annual_revenue"] = None if values.get("annual_revenue") in (None, "") else str(values["annual_revenue"])
    # Only what differs from the lead is judged: a form posts every field back, and an old
    # value intake once let through (a landline kept as given) must not block an unrelated edit.
    sent = {name for name in changes if _stored(name, changes[name]) != _stored(name, current.get(name))}
    errors = lead_contact_problems(values, sent)
    if errors:
        raise ValidationError(errors)
    normalised = normalise_lead(values).fields
    applied = set(sent)
    if {"mobile", "phone"} & sent and not values.get("province") and not values.get("city"):
        applied |= {"province", "city"} & set(allowed)  # the number's region, as intake fills it in
    diff: dict[str, dict[str, Any]] = {}
    for name in sorted(applied):
        before, after = _stored(name, current.get(name)), _stored(name, normalised.get(name))
        if before != after:
            diff[name] = {"from": _audited(before), "to": _audited(after)}
            setattr(lead, name, after)
    if not diff:
        return LeadEdit(lead=lead)
    written = [*diff]
    if {"name", "company"} & diff.keys():
        for key, value in match_keys({"name": lead.name, "company": lead.company}).items():
            setattr(lead, key, value)
        written += MATCH_KEY_FIELD_NAMES
    for key, value in search_columns({name: getattr(lead, name) for name in ("name", "company", "mobile", "wechat", "phone")}).items():
        setattr(lead, key, value)
    lead.save(update_fields=[*written, "search_text", "search_bigrams", "updated_at"])
    AuditLog.objects.create(
        tenant=tenant, actor=actor, actor_api_key=api_key, action=LEAD_EDIT_ACTION, object_type="lead",
        object_id=str(lead.id), changes={"fields": diff},
    )
    lead_fields_changed_announce(tenant_id=tenant.id, lead_ids=[lead.id], fields=list(diff))
    return LeadEdit(lead=lead, changes=diff)
