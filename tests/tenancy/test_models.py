"""How people are named on pages (leadcrm.tenancy.models.person_name, Membership.name)."""

from __future__ import annotations

import pytest

from leadcrm.tenancy.models import Role, person_name
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import membership_create, user_get_or_create
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    ("display_name", "full_name", "email", "expected"),
    [
        ("赵敏", "Min Zhao", "zhao.min@demo.test", "赵敏"),
        ("", "Min Zhao", "zhao.min@demo.test", "Min Zhao"),
        ("", "", "zhao.min@demo.test", "zhao.min"),
        # earlier memberships stored the address itself as the display name
        ("Zhao.Min@demo.test", "", "zhao.min@demo.test", "zhao.min"),
        ("  ", " ", "zhao.min@demo.test", "zhao.min"),
        ("", "", "", ""),
        # and a tenant's owner was given the tenant's name as their own
        ("owner@acme.test", "Acme 科技", "owner@acme.test", "owner"),
    ],
)
def test_person_name_is_never_the_raw_address(display_name, full_name, email, expected):
    assert person_name(display_name=display_name, full_name=full_name, email=email, tenant_name="Acme 科技") == expected


def test_tenant_owner_and_members_without_a_name_are_named_by_their_address(tenant_a):
    user = user_get_or_create(email="li.lei@tenant-a.test", password=PASSWORD)
    member = membership_create(tenant=tenant_a.tenant, user=user, role=Role.MANAGER)
    with tenant_scope(tenant_a.tenant.id):
        assert str(member) == "li.lei"
        # not the company's name either (the tenant's name used to become its owner's)
        assert str(tenant_a.owner) == "owner"
        assert tenant_a.owner.user.first_name == ""


def test_members_made_before_names_were_fixed_read_as_people(tenant_a):
    # As tenant_create used to leave them: the address as display name, the tenant's name as
    # the owner's first name.
    owner = tenant_a.owner
    with tenant_scope(tenant_a.tenant.id):
        type(owner).objects.filter(id=owner.id).update(display_name=owner.user.email)
    owner.user.first_name = tenant_a.tenant.name
    owner.user.save(update_fields=["first_name"])
    with tenant_scope(tenant_a.tenant.id):
        owner.refresh_from_db()
        assert owner.name == "owner"
