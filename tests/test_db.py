"""The ORM shortcuts of leadcrm/db.py give what the ORM would."""

from __future__ import annotations

import pytest

from leadcrm.db import insert_many, model_build
from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead


def test_model_build_equals_keyword_construction():
    values = {"tenant_id": 7, "name": "王萱强", "mobile": "+8615186570704", "custom": {"a": 1}}
    built = model_build(Lead, values)
    expected = Lead(**values)
    for field in Lead._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(expected, field.attname), field.name
    assert built._state.adding


def test_model_build_gives_each_instance_its_own_mutable_defaults():
    first, second = model_build(Lead, {"tenant_id": 1}), model_build(Lead, {"tenant_id": 1})
    first.tags.append("疑似重复")
    assert second.tags == [] and first.custom is not second.custom


def test_model_build_goes_through_init_when_someone_listens_to_its_signals():
    from django.db.models.signals import post_init

    seen: list[str] = []

    def listener(sender: type[Lead], instance: Lead, **kwargs: object) -> None:
        seen.append(instance.name)

    post_init.connect(listener, sender=Lead)
    try:
        model_build(Lead, {"tenant_id": 7, "name": "王萱强"})
    finally:
        post_init.disconnect(listener, sender=Lead)
    model_build(Lead, {"tenant_id": 7, "name": "not seen"})
    assert seen == ["王萱强"]


@pytest.mark.django_db
def test_insert_many_writes_one_and_several_rows_with_their_ids(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        one = [model_build(Lead, {"tenant_id": tenant_a.tenant.id, "name": "一", "tags": ["a"]})]
        several = [model_build(Lead, {"tenant_id": tenant_a.tenant.id, "name": str(n)}) for n in range(3)]
        insert_many(one)
        insert_many(several)
        stored = {lead.id: lead for lead in Lead.objects.all()}
        assert stored[one[0].id].name == "一" and stored[one[0].id].tags == ["a"]
        assert [stored[lead.id].name for lead in several] == ["0", "1", "2"]
        # to the microsecond: the response shows the instance, a later GET the stored row
        assert all(stored[lead.id].created_at == lead.created_at for lead in one + several)
        audit = model_build(AuditLog, {"tenant_id": tenant_a.tenant.id, "action": "x", "changes": {"k": [1]}})
        insert_many([audit])
        assert AuditLog.objects.get(id=audit.id).changes == {"k": [1]}


def test_api_key_lookup_and_rate_count_share_one_redis_round_trip(settings):
    from django.core.cache import caches

    from leadcrm.cache import RedisCache, cache_get_and_incr, cache_get_many_and_incr

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("REDIS_URL is not set: the file cache has no round trips to share")
    cache.set("k", {"v": 1})
    client = cache._cache.get_client(write=True)
    calls: list[tuple[object, ...]] = []
    original = client.execute_command

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    client.execute_command = counting
    try:
        assert cache_get_and_incr(key="k", counter="n", counter_timeout=60) == ({"v": 1}, 1)
        assert cache_get_and_incr(key="k", counter="n", counter_timeout=60) == ({"v": 1}, 2)
        # the key, its suspension mark (missing) and the counter: still one round trip
        assert cache_get_many_and_incr(keys=["k", "mark"], counter="n", counter_timeout=60) == ([{"v": 1}, None], 3)
    finally:
        del client.execute_command
    # the pipeline sends GET and INCR together; only a new counter costs one more call (EXPIRE)
    assert [c[0] for c in calls] == ["EXPIRE"]


@pytest.mark.django_db
def test_insert_many_keeps_each_rows_own_values_beside_the_shared_ones(tenant_a):
    from decimal import Decimal

    rows = [
        {"name": "甲", "tags": ["a"], "custom": {"k": 1}, "score_total": Decimal("0"), "annual_revenue": None},
        {"name": "乙", "tags": [], "custom": {"k": 1}, "score_total": Decimal("12.50"), "annual_revenue": Decimal("3")},
        {"name": "乙", "tags": [], "custom": {}, "score_total": Decimal("0"), "annual_revenue": None},
    ]
    with tenant_scope(tenant_a.tenant.id):
        leads = [model_build(Lead, {"tenant_id": tenant_a.tenant.id, **row}) for row in rows]
        insert_many(leads)
        stored = Lead.objects.in_bulk([lead.id for lead in leads])
        for lead, row in zip(leads, rows, strict=True):
            got = stored[lead.id]
            assert {name: getattr(got, name) for name in row} == row
            assert got.created_at == leads[0].created_at and got.status == "pending"


@pytest.mark.django_db(transaction=True)
def test_fetch_prepared_runs_statements_in_order_in_the_callers_transaction_and_prepares_them():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from leadcrm.db import fetch_prepared

    add = "INSERT INTO prepared_probe (n) SELECT %(n)s::int"
    count = "SELECT count(*), sum(n) FROM prepared_probe WHERE n >= %(n)s::int"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS prepared_probe (n int)")
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            assert fetch_prepared([(add, {"n": 5}), (add, {"n": 7}), (count, {"n": 5})]) == [(2, 12)]
            assert fetch_prepared([(count, {"n": 6})]) == [(1, 7)]
            transaction.set_rollback(True)
        assert [q["sql"].split(" /*")[0] for q in queries.captured_queries] == [add, add, count, count]
        assert fetch_prepared([(count, {"n": 0})]) == [(0, None)]  # rolled back with the caller's transaction
        with connection.cursor() as cursor:  # prepared once on this connection, not planned per call
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = {row[0] for row in cursor.fetchall()}
        assert any("FROM prepared_probe WHERE n >= $1::int" in statement for statement in prepared)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_probe")


@pytest.mark.django_db(transaction=True)
def test_fetch_prepared_raises_djangos_errors_and_the_transaction_rolls_back():
    from django.db import IntegrityError, connection, transaction

    from leadcrm.db import fetch_prepared

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS prepared_unique (n int PRIMARY KEY)")
    try:
        with pytest.raises(IntegrityError), transaction.atomic():
            fetch_prepared([("INSERT INTO prepared_unique VALUES (%s::int)", [1]),
                            ("INSERT INTO prepared_unique VALUES (%s::int)", [1])])
        assert fetch_prepared([("SELECT count(*) FROM prepared_unique", [])]) == [(0,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_unique")
