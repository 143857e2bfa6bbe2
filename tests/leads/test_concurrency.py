"""Racing submissions of the same contact: one lead, the rest collected into it."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead, LeadSubmission
from leads.services import lead_intake
from tests.conftest import make_tenant

RACERS = 4


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_of_one_mobile_make_one_lead():
    created = make_tenant("race")
    mobiles = [f"1391234{n:04d}" for n in range(5)]
    start = threading.Barrier(RACERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def submit(racer: int) -> None:
        try:
            for mobile in mobiles:
                start.wait(timeout=30)  # every racer submits this mobile at the same moment
                with tenant_scope(created.tenant.id):
                    outcome = lead_intake(
                        tenant=created.tenant, payload={"name": f"客户{racer}", "mobile": mobile}, channel="api"
                    )
                outcomes.append(outcome.outcome)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
            start.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(outcomes) == sorted(["created"] * len(mobiles) + ["merged"] * len(mobiles) * (RACERS - 1))
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == len(mobiles)
        assert LeadSubmission.objects.count() == len(mobiles) * (RACERS - 1)
