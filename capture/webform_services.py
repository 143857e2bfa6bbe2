"""Web form writes: creating and changing a form (admins), and taking in a submission.

A submission goes through intake like every channel (channel "form", tagged with the form's
source and campaign). What a person can fix at once — a required field left empty, a mobile
that is not one, a custom value of the wrong kind — comes back as messages next to the fields;
everything else intake decides (blacklists and sensitive words quarantine, duplicates collect).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from capture.webform_models import WebForm, WebFormLanguage
from leadcrm.tenancy.models import AuditLog, Tenant
from leads.fields import FIELDS_BY_NAME
from leads.intake import IntakeOutcome, lead_intake_many
from leads.intake.custom_fields import custom_field_definitions
from leads.lead_edits import lead_contact_problems
from leads.models import CustomField, CustomFieldType

# The lead fields a form may ask, in the order the editor lists them.
FORM_LEAD_FIELD_NAMES = (
    "name", "mobile", "email", "wechat", "phone", "company", "title", "industry", "company_size", "province", "city",
    "notes",
)
CONTACT_NAMES = ("mobile", "email", "wechat", "phone")
CUSTOM_PREFIX = "custom."
UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign")  # carried from the embedding page's address
CREATE_ACTION = "webform.create"
UPDATE_ACTION = "webform.update"
MAX_FIELDS = 30


@dataclass(frozen=True)
class FormField:
    """One question of a form, resolved for rendering and checking."""

    name: str  # a lead field, or "custom.<key>"
    label: str
    required: bool
    kind: str = "text"  # text | textarea | email | tel | number | boolean | date | choice
    max_length: int | None = None
    choices: tuple[str, ...] = ()


def field_catalog(*, tenant: Tenant) -> list[tuple[str, str]]:
    """Every field a form may ask: (name, default label), lead fields then custom fields."""
    catalog = [(name, str(FIELDS_BY_NAME[name].label)) for name in FORM_LEAD_FIELD_NAMES]
    catalog += [
        (f"{CUSTOM_PREFIX}{custom.key}", custom.label)
        for custom in sorted(custom_field_definitions(tenant=tenant).values(), key=lambda c: c.label)
    ]
    return catalog


_KINDS = {"email": "email", "mobile": "tel", "phone": "tel", "notes": "textarea"}
_CUSTOM_KINDS = {
    CustomFieldType.NUMBER: "number", CustomFieldType.BOOLEAN: "boolean", CustomFieldType.DATE: "date",
    CustomFieldType.CHOICE: "choice",
}


def form_fields(*, form: WebForm, definitions: dict[str, CustomField]) -> list[FormField]:
    """The form's questions as the public page asks them; a custom field deleted since is left out."""
    resolved = []
    for spec in form.fields:
        name = spec.get("name", "")
        label = (spec.get("label") or "").strip()
        required = bool(spec.get("required"))
        if name.startswith(CUSTOM_PREFIX):
            custom = definitions.get(name.removeprefix(CUSTOM_PREFIX))
            if custom is None:
                continue
            resolved.append(FormField(
                name=name, label=label or custom.label, required=required or custom.is_required,
                kind=_CUSTOM_KINDS.get(CustomFieldType(custom.field_type), "text"), max_length=1000,
                choices=tuple(str(choice) for choice in custom.choices or ()),
            ))
        elif name in FIELDS_BY_NAME:
            lead_field = FIELDS_BY_NAME[name]
            resolved.append(FormField(
                name=name, label=label or str(lead_field.label), required=required, kind=_KINDS.get(name, "text"),
                max_length=lead_field.max_length,
            ))
    return resolved


# --- the admin's form -----------------------------------------------------------------------------


@dataclass
class WebFormInput:
    name: str
    fields: list[dict[str, Any]]
    thank_you: str = ""
    source: str = ""
    campaign: str = ""
    language: str = WebFormLanguage.ZH
    is_active: bool = True


def _problems(*, tenant: Tenant, data: WebFormInput) -> dict[str, list[Promise | str]]:
    errors: dict[str, list[Promise | str]] = {}
    if not data.name.strip():
        errors["name"] = [_("请给表单起个名字，例如「官网咨询表单」。")]
    elif len(data.name) > 100:
        errors["name"] = [_("名称最多 100 个字。")]
    known = dict(field_catalog(tenant=tenant))
    names = [spec.get("name", "") for spec in data.fields]
    if not names:
        errors["fields"] = [_("请至少选择一个字段。")]
    elif unknown := [name for name in names if name not in known]:
        errors["fields"] = [gettext("没有这些字段：%(names)s。") % {"names": "、".join(unknown)}]
    elif len(set(names)) != len(names) or len(names) > MAX_FIELDS:
        errors["fields"] = [_("每个字段只能出现一次，最多 30 个字段。")]
    elif not set(names) & set(CONTACT_NAMES):
        errors["fields"] = [_("请至少选择一种联系方式（手机、邮箱、微信或座机），否则提交都会进入隔离区。")]
    else:
        missing = [
            custom.label for key, custom in custom_field_definitions(tenant=tenant).items()
            if custom.is_required and f"{CUSTOM_PREFIX}{key}" not in names
        ]
        if missing:
            errors["fields"] = [gettext("这些自定义字段是必填的，请加入表单：%(labels)s。") % {"labels": "、".join(missing)}]
    if any(len(spec.get("label") or "") > 100 for spec in data.fields):
        errors.setdefault("fields", []).append(_("字段标题最多 100 个字。"))
    if len(data.thank_you) > 1000:
        errors["thank_you"] = [_("感谢语最多 1000 个字。")]
    if len(data.source) > 50:
        errors["source"] = [_("来源最多 50 个字符。")]
    if len(data.campaign) > 100:
        errors["campaign"] = [_("营销活动最多 100 个字符。")]
    if data.language not in WebFormLanguage.values:
        errors["language"] = [_("请选择表单语言。")]
    return errors


def _clean_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": spec["name"], "label": (spec.get("label") or "").strip(), "required": bool(spec.get("required"))}
        for spec in fields
    ]


def _save(form: WebForm) -> None:
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        raise ValidationError({"name": [_("已有同名的表单，请换一个名字。")]}) from None


@transaction.atomic
def webform_create(*, tenant: Tenant, actor: User | None, data: WebFormInput) -> WebForm:
    if errors := _problems(tenant=tenant, data=data):
        raise ValidationError(errors)
    form = WebForm(
        tenant=tenant, name=data.name.strip(), key=secrets.token_urlsafe(24), fields=_clean_fields(data.fields),
        thank_you=data.thank_you.strip(), source=data.source.strip(), campaign=data.campaign.strip(),
        language=data.language, is_active=data.is_active,
    )
    _save(form)
    AuditLog.objects.create(
        tenant=tenant, actor=actor, action=CREATE_ACTION, object_type="webform", object_id=str(form.id),
        changes={"name": form.name},
    )
    return form


@transaction.atomic
def webform_update(*, tenant: Tenant, form: WebForm, actor: User | None, data: WebFormInput) -> WebForm:
    if errors := _problems(tenant=tenant, data=data):
        raise ValidationError(errors)
    before = {name: getattr(form, name) for name in ("name", "fields", "thank_you", "source", "campaign", "language", "is_active")}
    form.name, form.fields, form.thank_you = data.name.strip(), _clean_fields(data.fields), data.thank_you.strip()
    form.source, form.campaign, form.language, form.is_active = (
        data.source.strip(), data.campaign.strip(), data.language, data.is_active,
    )
    _save(form)
    changes = {
        name: {"from": value, "to": getattr(form, name)} for name, value in before.items() if getattr(form, name) != value
    }
    if changes:
        AuditLog.objects.create(
            tenant=tenant, actor=actor, action=UPDATE_ACTION, object_type="webform", object_id=str(form.id),
            changes=changes,
        )
    return form


# --- a submission ---------------------------------------------------------------------------------


@dataclass
class SubmissionResult:
    errors: dict[str, list[str]] = field(default_factory=dict)  # by form field; "__all__" for the form
    outcome: IntakeOutcome | None = None

    @property
    def is_accepted(self) -> bool:
        return self.outcome is not None and self.outcome.outcome != "invalid"


def _custom_value(spec: FormField, raw: str) -> tuple[Any, str | None]:
    if spec.kind == "boolean":
        return raw in ("on", "true", "1", "yes"), None
    if spec.kind == "number":
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return None, gettext("请填写数字。")
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if spec.kind == "date" and parse_date(raw) is None:
        return None, gettext("请按 年-月-日 填写日期，例如 2025-03-01。")
    if spec.kind == "choice" and raw not in spec.choices:
        return None, gettext("请从选项中选择。")
    return raw, None


def webform_submit(
    *, form: WebForm, fields: list[FormField], values: dict[str, str], utm: dict[str, str] | None = None
) -> SubmissionResult:
    """Take in one submission of `form` (inside its tenant's scope). Only the form's own fields
    are read from `values`; anything else posted is ignored."""
    errors: dict[str, list[str]] = {}
    payload: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for spec in fields:
        raw = (values.get(spec.name) or "").strip()
        if spec.kind == "boolean":
            custom[spec.name.removeprefix(CUSTOM_PREFIX)] = raw in ("on", "true", "1", "yes")
            continue
        if not raw:
            if spec.required:
                errors[spec.name] = [gettext("请填写此项。")]
            continue
        if spec.max_length and len(raw) > spec.max_length:
            errors[spec.name] = [gettext("最多 %(count)d 个字符。") % {"count": spec.max_length}]
            continue
        if spec.name.startswith(CUSTOM_PREFIX):
            value, problem = _custom_value(spec, raw)
            if problem:
                errors[spec.name] = [problem]
            else:
                custom[spec.name.removeprefix(CUSTOM_PREFIX)] = value
        else:
            payload[spec.name] = raw
    asked = {spec.name for spec in fields}
    # "Leave at least one contact" goes next to the form's first contact field.
    first_contact = next((spec.name for spec in fields if spec.name in CONTACT_NAMES), "mobile")
    for name, texts in lead_contact_problems(payload, set(payload) | {first_contact}).items():
        errors.setdefault(name if name in asked else "__all__", []).extend(texts)
    if errors:
        return SubmissionResult(errors=errors)
    payload.update({name: value[:100] for name, value in (utm or {}).items() if name in UTM_NAMES and value})
    if form.source:
        payload["source"] = form.source
    if form.campaign:
        payload["campaign"] = form.campaign
    if custom:
        payload["custom"] = custom
    outcome = lead_intake_many(tenant=form.tenant, payloads=[payload], channel="form")[0]
    if outcome.outcome == "invalid":
        for name, texts in outcome.errors.items():
            errors.setdefault(name if name in asked else "__all__", []).extend(texts)
        return SubmissionResult(errors=errors, outcome=outcome)
    WebForm.objects.filter(id=form.id).update(submission_count=F("submission_count") + 1, last_submitted_at=timezone.now())
    return SubmissionResult(outcome=outcome)


def webform_bot_record(*, form: WebForm) -> None:
    """A bot filled the honeypot: counted on the form, nothing else kept."""
    WebForm.objects.filter(id=form.id).update(bot_count=F("bot_count") + 1)
