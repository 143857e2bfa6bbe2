"""A rule with `exclude_previous_owner` never gives a returned lead back to the rep who had it
(found in the lead's audited owner changes); without the flag the same rep may get it."""

from __future__ import annotations

import pytest

from assignment.lead_actions import leads_return
from assignment.routing import leads_route
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from tests.assignment.helpers import mature_leads_make, owners, pool_with_rule, reps_make

pytestmark = pytest.mark.django_db


def route_return_route(created: CreatedTenant, lead_ids: list[int]) -> None:
    with tenant_scope(created.tenant.id):
        leads_route(tenant=created.tenant, lead_ids=lead_ids, reason="assignment_rule")
        leads_return(tenant=created.tenant, lead_ids=lead_ids, reason="联系不上")
        leads_route(tenant=created.tenant, lead_ids=lead_ids, reason="assignment_rule")


@pytest.mark.parametrize("flag", [True, False])
def test_previous_owner_excluded_only_when_the_rule_says_so(tenant_a: CreatedTenant, flag: bool) -> None:
    reps = reps_make(tenant_a, 2)
    pool, _rule = pool_with_rule(tenant_a, reps, strategy="designated", rule={"exclude_previous_owner": flag})
    leads = mature_leads_make(tenant_a, pool, 3)
    route_return_route(tenant_a, leads)
    # Designated: the first rep always, unless they are the one the lead came back from.
    expected = reps[1] if flag else reps[0]
    assert owners(tenant_a, leads) == dict.fromkeys(leads, expected)
