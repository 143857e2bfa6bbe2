"""Test data built through the real services (Zulip style), so tests exercise the same
paths the product uses."""

from __future__ import annotations

import itertools
from typing import Any

from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.cleansing_services import blacklist_entry_add, sensitive_word_add
from leads.dedup_services import company_alias_create, dedup_rule_create
from leads.intake import lead_intake
from leads.models import BlacklistEntry, CompanyAlias, DedupRule, IntakeRecord, Lead, SensitiveWord
from leads.normalization import is_fake_mobile

_mobile_numbers = itertools.count(13_900_000_000 + 10_007)


def next_mobile() -> str:
    """A fresh valid-looking CN mobile number for each call (never one intake takes for a fake)."""
    while is_fake_mobile(number := str(next(_mobile_numbers))):
        pass
    return number


def lead_make(created: CreatedTenant, **fields: Any) -> Lead:
    payload = {"name": "测试客户", "mobile": next_mobile(), **fields}
    with tenant_scope(created.tenant.id):
        outcome = lead_intake(tenant=created.tenant, payload=payload, channel="manual")
        assert outcome.lead is not None, outcome
        lead = outcome.lead
        extra = {k: v for k, v in fields.items() if k in {"status", "owner_id", "score_total", "grade", "tier", "pool_id"}}
        if extra:
            Lead.objects.filter(id=lead.id).update(**extra)
            lead.refresh_from_db()
        return lead


def intake_record_make(created: CreatedTenant, **fields: Any) -> IntakeRecord:
    """A quarantined submission (no contact method, unless `fields` give one that fails)."""
    payload = {"name": "无联系方式的客户", **fields}
    with tenant_scope(created.tenant.id):
        outcome = lead_intake(tenant=created.tenant, payload=payload, channel="form")
        assert outcome.intake_record is not None, outcome
        return outcome.intake_record


_list_entries = itertools.count(1)


def blacklist_entry_make(created: CreatedTenant, *, kind: str = "keyword", value: str = "") -> BlacklistEntry:
    with tenant_scope(created.tenant.id):
        return blacklist_entry_add(tenant=created.tenant, kind=kind, value=value or f"竞品{next(_list_entries)}号")


def sensitive_word_make(created: CreatedTenant, *, word: str = "", category: str = "custom") -> SensitiveWord:
    with tenant_scope(created.tenant.id):
        return sensitive_word_add(tenant=created.tenant, word=word or f"敏感词{next(_list_entries)}号", category=category)


_rule_numbers = itertools.count(1)


def dedup_rule_make(created: CreatedTenant, **fields: Any) -> DedupRule:
    """A duplicate rule of its own (a WeChat id rule, any time), added last."""
    n = next(_rule_numbers)
    data = {"name": f"微信相同 {n}", "conditions": ["wechat"], "compare_with": "leads", "window_days": n,
            "action": "tag", **fields}
    with tenant_scope(created.tenant.id):
        return dedup_rule_create(tenant=created.tenant, data=data)


def company_alias_make(created: CreatedTenant, **fields: Any) -> CompanyAlias:
    n = next(_rule_numbers)
    values = {"alias": f"产品{n}号", "company": f"北京纷扬{n}科技有限公司", **fields}
    with tenant_scope(created.tenant.id):
        return company_alias_create(tenant=created.tenant, alias=values["alias"], company=values["company"])


def sla_policy_make(created: CreatedTenant, **data: Any) -> Any:
    """A tenant-wide follow-up deadline (T+2h) of its own name."""
    from assignment.sla_policies import sla_policy_create

    body = {"name": f"两小时内跟进 {next(_rule_numbers)}", "pool": None, "within": {"value": 2, "unit": "hours"}, **data}
    with tenant_scope(created.tenant.id):
        return sla_policy_create(tenant=created.tenant, data=body)


def member_make(created: CreatedTenant, **fields: Any) -> Any:
    """A rep of the tenant; returns the user (members are named by user id in the API and pages)."""
    from leadcrm.tenancy.models import Membership, Role
    from leadcrm.tenancy.services import user_get_or_create

    n = next(_member_numbers)
    user = user_get_or_create(email=f"rep{n}@{created.tenant.slug}.test", password="Correct-Horse-9", name=f"代表{n}")
    with tenant_scope(created.tenant.id):
        Membership.objects.create(tenant=created.tenant, user=user, role=fields.get("role", Role.REP), display_name=f"代表{n}")
    return user


_member_numbers = itertools.count(1)


def api_key_make(created: CreatedTenant, **fields: Any) -> Any:
    from leadcrm.tenancy.services import api_key_create

    return api_key_create(tenant=created.tenant, name=fields.get("name", "测试密钥"), scopes=fields.get("scopes")).api_key


def notification_make(created: CreatedTenant, **fields: Any) -> Any:
    """A notification for the tenant's owner (or `recipient_id`)."""
    from leadcrm.notifications.models import Notification

    with tenant_scope(created.tenant.id):
        return Notification.objects.create(
            tenant=created.tenant, recipient_id=fields.get("recipient_id", created.owner.user_id),
            kind=fields.get("kind", "lead.assigned"), title=fields.get("title", "新线索分配给你"),
            body=fields.get("body", ""), url=fields.get("url", ""),
        )


_pool_numbers = itertools.count(1)


def pool_make(created: CreatedTenant, **data: Any) -> Any:
    """A private pool that takes no lead by itself (its entry conditions match nothing here)."""
    from assignment.pool_services import pool_create_full

    body = {"name": f"测试池 {next(_pool_numbers)}", "kind": "private", "entry_conditions": {"source": ["无此来源"]}, **data}
    with tenant_scope(created.tenant.id):
        return pool_create_full(tenant=created.tenant, data=body)


def assignment_rule_make(created: CreatedTenant, **data: Any) -> Any:
    """A round-robin rule of a new pool, to the tenant's owner."""
    from assignment.pool_services import rule_create

    pool = pool_make(created)
    reps = [{"user": created.owner.user_id, "weight": 1}]
    with tenant_scope(created.tenant.id):
        return rule_create(tenant=created.tenant, pool=pool, data={"strategy": "round_robin", "reps": reps, **data})


def rule_set_make(created: CreatedTenant) -> Any:
    """The tenant's published scoring rule set (every tenant has one from its defaults)."""
    from scoring.models import RuleSetStatus, ScoringRuleSet

    with tenant_scope(created.tenant.id):
        return ScoringRuleSet.objects.get(status=RuleSetStatus.PUBLISHED)


def rescore_job_make(created: CreatedTenant) -> Any:
    """A finished rescore job of the published rule set."""
    from scoring.models import RescoreJob

    rule_set = rule_set_make(created)
    with tenant_scope(created.tenant.id):
        return RescoreJob.objects.create(tenant=created.tenant, rule_set=rule_set, version=rule_set.version, status="done")


def import_file_make(created: CreatedTenant) -> Any:
    """An uploaded CSV of two leads."""
    import io

    from capture.import_services import import_file_store

    data = "姓名,手机\r\n张三,13952816437\r\n李四,13952816438\r\n".encode()
    with tenant_scope(created.tenant.id):
        return import_file_store(
            tenant=created.tenant, stream=io.BytesIO(data), name="leads.csv", size=len(data),
            uploaded_by=created.owner.user,
        )


def import_job_make(created: CreatedTenant) -> Any:
    """A finished dry run over an uploaded file."""
    from capture.import_models import ImportJob

    file = import_file_make(created)
    with tenant_scope(created.tenant.id):
        return ImportJob.objects.create(
            tenant=created.tenant, file=file, is_dry_run=True, status="done", headers=["姓名", "手机"],
            mapping={"姓名": "name", "手机": "mobile"}, rows_total=2, records_done=2, created_count=2,
        )


_view_numbers = itertools.count(1)


def saved_view_make(created: CreatedTenant, **fields: Any) -> Any:
    """A saved view of the lead list, the tenant owner's unless `owner` is given."""
    from leads.saved_views import saved_view_create

    with tenant_scope(created.tenant.id):
        return saved_view_create(
            tenant=created.tenant, owner=fields.get("owner", created.owner.user),
            name=fields.get("name", f"视图 {next(_view_numbers)}"), query=fields.get("query", {"status": ["pending"]}),
            columns=fields.get("columns", ["status", "score"]), shared_with=fields.get("shared_with", "private"),
        )


def saved_view_default_make(created: CreatedTenant) -> Any:
    """The tenant owner's default view (a new view of theirs)."""
    from leads.models import SavedViewDefault

    view = saved_view_make(created)
    with tenant_scope(created.tenant.id):
        SavedViewDefault.objects.create(tenant=created.tenant, user=created.owner.user, view=view)
        return SavedViewDefault.objects.get(user=created.owner.user)


_webform_names = itertools.count(1)


def webform_make(created: CreatedTenant, **data: Any) -> Any:
    """An active web form asking name, mobile and company (through the admin's service)."""
    from capture.webform_services import WebFormInput, webform_create

    fields = data.pop("fields", [
        {"name": "name", "label": "", "required": True}, {"name": "mobile", "label": "", "required": True},
        {"name": "company", "label": "", "required": False},
    ])
    with tenant_scope(created.tenant.id):
        return webform_create(
            tenant=created.tenant, actor=None,
            data=WebFormInput(name=data.pop("name", f"官网表单{next(_webform_names)}"), fields=fields, **data),
        )
