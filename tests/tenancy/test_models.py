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
    ],
)
def test_person_name_is_never_the_raw_address(display_name, full_name, email, expected):
    assert person_name(display_name=display_name, full_name=full_name, email=email) == expected


def test_tenant_owner_and_members_without_a_name_are_named_by_their_address(tenant_a):
    user = user_get_or_create(email="li.lei@tenant-a.test", password=PASSWORD)
    member = membership_create(tenant=tenant_a.tenant, user=user, role=Role.MANAGER)
    with tenant_scope(tenant_a.tenant.id):
        assert str(member) == "li.lei"
        # not the company's name either (the tenant's name used to become its owner's)
        assert str(tenant_a.owner) == "owner"
        assert tenant_a.owner.user.first_name == ""
