"""A routing process for the concurrency test: routes every given lead in batches, starting
at its own offset so processes collide on the same leads. Run as a script with its own DB
connection: python -m tests.assignment.route_worker TENANT_ID OFFSET LEAD_ID..."""

from __future__ import annotations

import sys

import django


def main() -> None:
    django.setup()
    from assignment.routing import leads_route
    from leadcrm.tenancy.models import Tenant
    from leadcrm.tenancy.scoping import tenant_scope

    tenant_id, offset, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(path) as handle:
        ids = [int(line) for line in handle if line.strip()]
    ids = ids[offset:] + ids[:offset]
    tenant = Tenant.objects.get(id=tenant_id)
    for start in range(0, len(ids), 250):
        with tenant_scope(tenant_id):
            leads_route(tenant=tenant, lead_ids=ids[start : start + 250], reason="assignment_rule")


if __name__ == "__main__":
    main()
