"""Assignment's pages as people use them: admins configure pools and their ordered rules, reps
browse the 公海 and claim in one click (masked contacts until claimed, refusals in words), and
the lead page's actions panel assigns, transfers, returns, invalidates and changes status, each
on the timeline with its reason. Reps are kept out of configuration; another tenant's ids are
404s on every page and action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assignment.models import AssignmentRule, Pool, PoolMember
from assignment.pool_services import pool_create_full, rule_create
from assignment.selectors import pool_default
from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.assignment.helpers import mature_leads_make, reps_make
from tests.conftest import add_member

pytestmark = pytest.mark.django_db


def client_for(user_id: int) -> Client:
    client = Client()
    client.force_login(User.objects.get(id=user_id))
    return client


@pytest.fixture
def owner_client(tenant_a: CreatedTenant) -> Client:
    return client_for(tenant_a.owner.user_id)


def public_pool(created: CreatedTenant, members: list[int], **fields: object) -> Pool:
    with tenant_scope(created.tenant.id):
        return pool_create_full(tenant=created.tenant, data={"name": "华东公海", "kind": "public", "members": members,
                                                             **fields})


def lead_row(created: CreatedTenant, lead_id: int) -> Lead:
    with tenant_scope(created.tenant.id):
        return Lead.objects.get(id=lead_id)


# --- pools and rules (admins) ---------------------------------------------------------------------


def test_admin_creates_a_pool_with_conditions_members_and_caps(tenant_a: CreatedTenant, owner_client: Client) -> None:
    reps = reps_make(tenant_a, 2)
    slug = tenant_a.tenant.slug
    made = owner_client.post(f"/{slug}/settings/pools/new", {
        "name": "华南池", "kind": "public", "position": "1", "is_active": "on", "entry_province": "广东，广西",
        "entry_grade": ["A", "B"], "members": [str(reps[0]), str(reps[1])], "admins": [str(reps[0])],
        "daily_claim_cap": "5", "max_held": "20", "recycle_after_days": "", "mask_contacts": "on",
    })
    assert made.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        pool = Pool.objects.get(name="华南池")
        assert pool.entry_conditions == {"province": ["广东", "广西"], "grade": ["A", "B"]}
        assert (pool.daily_claim_cap, pool.max_held, pool.recycle_after_days, pool.mask_contacts) == (5, 20, None, True)
        assert dict(PoolMember.objects.filter(pool=pool).values_list("user_id", "is_admin")) == {reps[0]: True, reps[1]: False}
    listing = owner_client.get(f"/{slug}/settings/pools")
    text = listing.content.decode()
    assert listing.status_code == 200 and "华南池" in text and "公海池" in text
    assert "广东、广西" in text and "每人每天最多领取 5 条" in text


def test_pool_form_errors_next_to_fields_and_default_pool_explained(tenant_a: CreatedTenant, owner_client: Client) -> None:
    slug = tenant_a.tenant.slug
    bad = owner_client.post(f"/{slug}/settings/pools/new", {"name": "公海池", "kind": "private", "daily_claim_cap": "-3"})
    assert bad.status_code == 400
    assert "请填写 0 或更大的整数" in bad.content.decode()
    again = owner_client.post(f"/{slug}/settings/pools/new", {"name": "公海池", "kind": "private"})
    assert again.status_code == 400 and "already exists" in again.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        default = pool_default()
    page = owner_client.get(f"/{slug}/settings/pools/{default.id}")
    text = page.content.decode()
    assert "不能停用，也不能设置进入条件" in text and 'name="entry_province"' not in text
    # The form has no such fields, and a hand-made POST with them changes neither.
    owner_client.post(f"/{slug}/settings/pools/{default.id}", {"name": "公海池", "kind": "public", "entry_province": "广东"})
    with tenant_scope(tenant_a.tenant.id):
        default.refresh_from_db()
        assert default.entry_conditions == {} and default.is_active


def test_rules_added_edited_reordered_and_deleted(tenant_a: CreatedTenant, owner_client: Client) -> None:
    reps = reps_make(tenant_a, 2)
    pool = public_pool(tenant_a, reps)
    base = f"/{tenant_a.tenant.slug}/settings/pools/{pool.id}"
    for name in ("规则甲", "规则乙"):
        added = owner_client.post(f"{base}/rules/new", {
            "name": name, "strategy": "weighted", "reps": [str(r) for r in reps], f"weight_{reps[0]}": "3",
            f"weight_{reps[1]}": "1", "rule_tier": ["hot"], "respect_working_hours": "on",
            "exclude_previous_owner": "on", "is_active": "on",
        })
        assert added.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        first, second = AssignmentRule.objects.filter(pool=pool).order_by("position")
    assert first.reps == [{"user": reps[0], "weight": 3.0}, {"user": reps[1], "weight": 1.0}]
    assert first.conditions == {"tier": ["hot"]} and first.exclude_previous_owner
    no_reps = owner_client.post(f"{base}/rules/{first.id}", {"name": "x", "strategy": "round_robin"})
    assert no_reps.status_code == 400 and "请至少选择一位销售" in no_reps.content.decode()
    owner_client.post(f"{base}/rules/{second.id}/move", {"direction": "up"})
    with tenant_scope(tenant_a.tenant.id):
        assert list(AssignmentRule.objects.filter(pool=pool).order_by("position").values_list("name", flat=True)) == ["规则乙", "规则甲"]
    page = owner_client.get(base).content.decode()
    assert page.index("规则乙") < page.index("规则甲")
    confirm = owner_client.get(f"{base}/rules/{first.id}/delete")
    assert confirm.status_code == 200 and "删除" in confirm.content.decode()
    owner_client.post(f"{base}/rules/{first.id}/delete")
    with tenant_scope(tenant_a.tenant.id):
        assert list(AssignmentRule.objects.filter(pool=pool).values_list("name", flat=True)) == ["规则乙"]


def test_rep_is_kept_out_of_pool_configuration(tenant_a: CreatedTenant) -> None:
    rep = reps_make(tenant_a, 1)[0]
    pool = public_pool(tenant_a, [rep])
    client = client_for(rep)
    slug = tenant_a.tenant.slug
    assert client.get(f"/{slug}/settings/pools").status_code == 403
    assert client.get(f"/{slug}/settings/pools/{pool.id}").status_code == 403
    assert client.post(f"/{slug}/settings/pools/{pool.id}", {"name": "改名"}).status_code == 403
    assert client.post(f"/{slug}/settings/pools/{pool.id}/rules/new", {}).status_code == 403


def test_another_tenants_pools_rules_and_leads_are_404(
    tenant_a: CreatedTenant, tenant_b: CreatedTenant, owner_client: Client
) -> None:
    rep_b = reps_make(tenant_b, 1)[0]
    pool_b = public_pool(tenant_b, [rep_b])
    with tenant_scope(tenant_b.tenant.id):
        rule_b = rule_create(tenant=tenant_b.tenant, pool=pool_b, data={"reps": [{"user": rep_b, "weight": 1}]})
    lead_b = mature_leads_make(tenant_b, pool_b, 1)[0]
    slug = tenant_a.tenant.slug
    for url in (f"/{slug}/settings/pools/{pool_b.id}", f"/{slug}/settings/pools/{pool_b.id}/rules/new",
                f"/{slug}/settings/pools/{pool_b.id}/rules/{rule_b.id}",
                f"/{slug}/settings/pools/{pool_b.id}/rules/{rule_b.id}/delete",
                f"/{slug}/leads/{lead_b}/actions"):
        assert owner_client.get(url).status_code == 404, url
    for url in (f"/{slug}/settings/pools/{pool_b.id}/rules/{rule_b.id}/move",
                f"/{slug}/settings/pools/{pool_b.id}/rules/{rule_b.id}/delete",
                f"/{slug}/public-pool/{lead_b}/claim", f"/{slug}/leads/{lead_b}/actions/do"):
        assert owner_client.post(url, {"action": "invalid", "reason": "x", "confirmed": "1"}).status_code == 404, url
    # Tenant B's own slug is not ours either.
    assert owner_client.get(f"/{tenant_b.tenant.slug}/public-pool").status_code == 404
    assert lead_row(tenant_b, lead_b).status == "pending"


# --- the 公海 -----------------------------------------------------------------------------------------


def test_rep_browses_masked_public_pool_and_claims_within_the_cap(tenant_a: CreatedTenant) -> None:
    rep, other = reps_make(tenant_a, 2)
    pool = public_pool(tenant_a, [rep], mask_contacts=True, daily_claim_cap=1)
    hidden = public_pool(tenant_a, [other], name="别人的公海")
    leads = mature_leads_make(tenant_a, pool, 2, province="广东")
    mature_leads_make(tenant_a, hidden, 1, province="广东")
    client = client_for(rep)
    slug = tenant_a.tenant.slug
    page = client.get(f"/{slug}/public-pool")
    text = page.content.decode()
    assert page.status_code == 200
    assert "今日还可领取 1 条" in text and "别人的公海" not in text
    full = lead_row(tenant_a, leads[0]).mobile
    assert full not in text and "****" in text  # masked until claimed
    assert client.get(f"/{slug}/public-pool", {"province": "浙江"}).content.decode().count('name="next_query"') == 0
    claimed = client.post(f"/{slug}/public-pool/{leads[0]}/claim", follow=True)
    assert "已领取线索" in claimed.content.decode()
    assert lead_row(tenant_a, leads[0]).owner_id == rep
    # Now theirs: the lead page shows the full number.
    detail = client.get(f"/{slug}/leads/{leads[0]}").content.decode()
    assert full[-4:] in detail and "****" not in client.get(f"/{slug}/leads/{leads[0]}/actions").content.decode()
    refused = client.post(f"/{slug}/public-pool/{leads[1]}/claim", follow=True)
    assert "每天最多允许领取 1 条" in refused.content.decode()
    assert lead_row(tenant_a, leads[1]).owner_id is None
    english = client.post(f"/{slug}/public-pool/{leads[1]}/claim", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200


def test_a_pool_the_rep_is_not_in_cannot_be_claimed_from(tenant_a: CreatedTenant) -> None:
    rep, other = reps_make(tenant_a, 2)
    pool = public_pool(tenant_a, [other])
    lead = mature_leads_make(tenant_a, pool, 1)[0]
    assert client_for(rep).post(f"/{tenant_a.tenant.slug}/public-pool/{lead}/claim").status_code == 404
    assert lead_row(tenant_a, lead).owner_id is None


# --- the lead page's actions --------------------------------------------------------------------------


def test_manager_assigns_with_a_note_on_the_timeline(tenant_a: CreatedTenant) -> None:
    rep = reps_make(tenant_a, 1)[0]
    manager = add_member(tenant_a, "boss@tenant-a.test", role=Role.MANAGER, name="王经理").user_id
    lead = mature_leads_make(tenant_a, None, 1)[0]
    client = client_for(manager)
    slug = tenant_a.tenant.slug
    panel = client.get(f"/{slug}/leads/{lead}/actions", HTTP_HX_REQUEST="true").content.decode()
    assert "分配" in panel and "条跟进中" in panel and "在班" in panel and "<html" not in panel
    done = client.post(f"/{slug}/leads/{lead}/actions/do", {"action": "assign", "owner": str(rep), "reason": "熟悉这个行业"})
    assert done.status_code == 302
    assert lead_row(tenant_a, lead).owner_id == rep
    page = client.get(f"/{slug}/leads/{lead}").content.decode()
    assert "已分配给" in page and "手动分配 · 说明：熟悉这个行业" in page
    english = client.get(f"/{slug}/leads/{lead}", HTTP_ACCEPT_LANGUAGE="en")
    assert "assignment_rule" not in english.content.decode()


def test_rep_transfers_returns_and_invalidates_their_own_leads(tenant_a: CreatedTenant) -> None:
    rep, colleague = reps_make(tenant_a, 2)
    pool = public_pool(tenant_a, [rep])
    leads = mature_leads_make(tenant_a, pool, 3)
    client = client_for(rep)
    slug = tenant_a.tenant.slug
    for lead in leads:
        client.post(f"/{slug}/public-pool/{lead}/claim")
    no_reason = client.post(f"/{slug}/leads/{leads[0]}/actions/do", {"action": "transfer", "owner": str(colleague)})
    assert no_reason.status_code == 400 and "请说明转交的原因" in no_reason.content.decode()
    client.post(f"/{slug}/leads/{leads[0]}/actions/do", {"action": "transfer", "owner": str(colleague), "reason": "客户在上海"})
    moved = lead_row(tenant_a, leads[0])
    assert (moved.owner_id, moved.status) == (colleague, "transferred")
    # Return: a confirm step first, nothing changes until confirmed.
    ask = client.post(f"/{slug}/leads/{leads[1]}/actions/do", {"action": "return", "reason": "联系不上"})
    assert ask.status_code == 200 and "确认退回" in ask.content.decode()
    assert lead_row(tenant_a, leads[1]).owner_id == rep
    client.post(f"/{slug}/leads/{leads[1]}/actions/do", {"action": "return", "reason": "联系不上", "confirmed": "1"})
    back = lead_row(tenant_a, leads[1])
    assert (back.owner_id, back.status) == (None, "returned")
    client.post(f"/{slug}/leads/{leads[2]}/actions/do", {"action": "invalid", "reason": "空号", "confirmed": "1"})
    assert lead_row(tenant_a, leads[2]).status == "invalid"
    timeline = client.get(f"/{slug}/leads/{leads[2]}").content.decode()
    assert "状态变为「无效」" in timeline and "空号" in timeline
    # A rep cannot act on a lead that is not theirs (it is invisible: 404).
    assert client.post(f"/{slug}/leads/{leads[0]}/actions/do", {"action": "status", "status": "following"}).status_code == 404


def test_status_change_offers_only_allowed_transitions(tenant_a: CreatedTenant) -> None:
    rep = reps_make(tenant_a, 1)[0]
    pool = public_pool(tenant_a, [rep])
    lead = mature_leads_make(tenant_a, pool, 1)[0]
    client = client_for(rep)
    slug = tenant_a.tenant.slug
    client.post(f"/{slug}/public-pool/{lead}/claim")
    panel = client.get(f"/{slug}/leads/{lead}/actions").content.decode()
    assert 'value="following"' in panel and 'value="returned"' not in panel
    assert client.post(f"/{slug}/leads/{lead}/actions/do", {"action": "status", "status": "following"}).status_code == 302
    assert lead_row(tenant_a, lead).status == "following"
    refused = client.post(f"/{slug}/leads/{lead}/actions/do", {"action": "status", "status": "pending"})
    assert refused.status_code == 400 and "请选择允许的状态" in refused.content.decode()
    # A rep cannot assign.
    other = reps_make(tenant_a, 1, prefix="x")[0]
    assert client.post(f"/{slug}/leads/{lead}/actions/do", {"action": "assign", "owner": str(other)}).status_code == 400
    assert lead_row(tenant_a, lead).owner_id == rep
    with tenant_scope(tenant_a.tenant.id):
        assert AuditLog.objects.filter(object_id=str(lead), action="lead.status_change").count() == 1
