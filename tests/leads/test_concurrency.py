"""Racing submissions of the same contact: one lead, the rest collected into it."""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections

from leadcrm.tenancy.scoping import tenant_scope
from leads.intake import lead_intake, lead_intake_many
from leads.models import ContactLock, Lead, LeadSubmission
from tests.conftest import make_tenant

RACERS = 4


def _run_together(count: int, work: Callable[[int, threading.Barrier], None]) -> list[BaseException]:
    """`work(n, barrier)` in `count` threads, each with its own database connection; returns
    what they raised. One failing thread breaks the barrier so the others stop waiting."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n, barrier)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_of_one_mobile_make_one_lead():
    created = make_tenant("race")
    mobiles = [f"1391234{n:04d}" for n in range(5)]
    outcomes: list[str] = []

    def submit(racer: int, start: threading.Barrier) -> None:
        for mobile in mobiles:
            start.wait(timeout=30)  # every racer submits this mobile at the same moment
            with tenant_scope(created.tenant.id):
                outcome = lead_intake(
                    tenant=created.tenant, payload={"name": f"客户{racer}", "mobile": mobile}, channel="api"
                )
            outcomes.append(outcome.outcome)

    errors = _run_together(RACERS, submit)
    assert not errors, errors
    assert sorted(outcomes) == sorted(["created"] * len(mobiles) + ["merged"] * len(mobiles) * (RACERS - 1))
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == len(mobiles)
        assert LeadSubmission.objects.count() == len(mobiles) * (RACERS - 1)


@pytest.mark.django_db(transaction=True)
def test_many_bulk_batches_at_once_do_not_exhaust_the_servers_lock_table():
    # Each 1000-lead batch locks 3000 contacts (mobile, e-mail, external id). Enough batches
    # held open together to need three times the server's shared lock table, which holds
    # max_locks_per_transaction x connections (and about as much again in spare memory).
    created = make_tenant("bulk-race")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_locks_per_transaction')::int * "
                       "(current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int)")
        lock_table_size = cursor.fetchone()[0]
    per_batch = 1000
    batches = math.ceil(3 * lock_table_size / (3 * per_batch))
    outcomes: Counter[str] = Counter()

    def submit(batch: int, barrier: threading.Barrier) -> None:
        payloads = [
            {"name": f"客户{batch}-{i}", "mobile": f"139{batch:02d}{100000 + i:06d}", "email": f"c{batch}.{i}@kehu.cn",
             "source": "crm", "external_id": f"{batch}-{i}"}
            for i in range(per_batch)
        ]
        barrier.wait(timeout=60)
        with tenant_scope(created.tenant.id):
            done = lead_intake_many(tenant=created.tenant, payloads=payloads, channel="bulk")
            barrier.wait(timeout=120)  # every batch has taken its locks before any commits
        outcomes.update(outcome.outcome for outcome in done)

    errors = _run_together(batches, submit)
    assert not errors, errors[:2]
    assert outcomes == {"created": batches * per_batch}
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == batches * per_batch
        assert not ContactLock.objects.exists()  # released by every batch


@pytest.mark.django_db(transaction=True)
def test_batches_sharing_contacts_in_different_orders_make_each_lead_once():
    created = make_tenant("overlap")
    contacts = [(f"137001{n:05d}", f"shared{n}@kehu.cn") for n in range(300)]
    outcomes: Counter[str] = Counter()

    def submit(racer: int, barrier: threading.Barrier) -> None:
        order = contacts[:]
        random.Random(racer).shuffle(order)
        # the odd racers know these people by e-mail only: they must still meet the mobile's lead
        payloads = [{"name": f"客户{racer}", **({"email": email} if racer % 2 else {"mobile": mobile, "email": email})}
                    for mobile, email in order]
        barrier.wait(timeout=60)
        with tenant_scope(created.tenant.id):
            done = lead_intake_many(tenant=created.tenant, payloads=payloads, channel="bulk")
        outcomes.update(outcome.outcome for outcome in done)

    errors = _run_together(3, submit)
    assert not errors, errors[:2]
    assert outcomes == {"created": len(contacts), "merged": 2 * len(contacts)}
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == len(contacts)


@pytest.mark.django_db(transaction=True)
def test_racing_batches_with_one_company_and_contact_make_one_lead_and_duplicates_of_it():
    # The company + name rule compares fuzzily: each racer writes the company its own way, so
    # only a lock on what they share (the brand and the name key) can keep two from both
    # finding nothing and both becoming the original.
    created = make_tenant("race-company")
    spellings = ["北京纷扬科技有限公司", "纷扬科技", "北京纷扬", "紛揚科技（北京）有限公司"]
    people = [("王萱强", "合汇"), ("李娜", "鼎安"), ("赵敏", "云帆"), ("陈静", "瑞联"), ("刘洋", "星辰")]

    def submit(racer: int, start: threading.Barrier) -> None:
        for round_, (name, brand) in enumerate(people):
            company = spellings[racer].replace("纷扬", brand).replace("紛揚", brand)
            start.wait(timeout=30)
            with tenant_scope(created.tenant.id):
                lead_intake_many(tenant=created.tenant, channel="bulk", payloads=[
                    {"name": name, "company": company, "email": f"r{racer}.{round_}@kehu.cn"},
                ])

    errors = _run_together(RACERS, submit)
    assert not errors, errors
    with tenant_scope(created.tenant.id):
        for name, _brand in people:
            leads = list(Lead.objects.filter(name=name).order_by("created_at", "id"))
            originals = [lead for lead in leads if lead.duplicate_of_id is None]
            assert len(leads) == RACERS and len(originals) == 1, [(lead.company, lead.duplicate_of_id) for lead in leads]
            assert all(lead.duplicate_of_id == originals[0].id for lead in leads if lead is not originals[0])


@pytest.mark.django_db(transaction=True)
def test_a_contact_lock_holds_until_commit_though_its_row_is_gone_at_once():
    """Intake deletes its lock rows in the round trip that takes them; a second submission of
    the same mobile must still wait for the first transaction, then collect into its lead."""
    created = make_tenant("lock-hold")
    first_in = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        try:
            with tenant_scope(created.tenant.id):
                seen["first"] = lead_intake(
                    tenant=created.tenant, payload={"name": "先到", "mobile": "13912340001"}, channel="api"
                ).outcome
                seen["locks_while_open"] = ContactLock.objects.count()
                first_in.set()
                release_first.wait(timeout=30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_in.wait(timeout=30)
            with tenant_scope(created.tenant.id):
                seen["second"] = lead_intake(
                    tenant=created.tenant, payload={"name": "后到", "mobile": "13912340001"}, channel="api"
                ).outcome
            second_done.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_in.wait(timeout=30)
    assert not second_done.wait(timeout=1.5), "the second submission went on while the first was open"
    release_first.set()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == {"first": "created", "locks_while_open": 0, "second": "merged"}
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == 1 and LeadSubmission.objects.count() == 1
