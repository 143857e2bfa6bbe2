"""Intake's cleanse stage with a tenant's own rules: its blacklist quarantines with
`blacklist.<kind>`, its sensitive words (and the built-in lexicon unless turned off) quarantine
or tag, a change applies to the very next submission, one tenant's rules never touch another's,
and the whole costs one small query a batch."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from faker import Faker

from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.cleansing import clear_matcher_caches, sensitive_word_normalise
from leads.cleansing_selectors import SENSITIVE_TAG, cleansing_rules_for_intake
from leads.cleansing_services import (
    blacklist_entry_add,
    blacklist_entry_delete,
    blacklist_import,
    cleansing_policy_update,
    sensitive_word_add,
    sensitive_word_import,
)
from leads.intake import lead_intake_many
from leads.intake.batch import IntakeBatch, IntakeItem
from leads.intake.stages import cleanse, normalise, validate
from leads.models import CleansingPolicy
from tests.factories import next_mobile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_matchers() -> None:
    clear_matcher_caches()  # ids and versions repeat across tests' rolled-back transactions


def submit(created: CreatedTenant, *payloads: dict[str, Any], waived: frozenset[str] = frozenset()) -> list[Any]:
    with tenant_scope(created.tenant.id):
        return lead_intake_many(tenant=created.tenant, payloads=list(payloads), channel="api", waived_reasons=waived)


def submit_one(created: CreatedTenant, **payload: Any) -> Any:
    return submit(created, {"name": "张伟", **payload})[0]


BLACKLIST = [
    ("phone", "139 5281 6437"),
    ("phone", "010-6234 5578"),
    ("email", "boss@rival.com"),
    ("email_domain", "spam.cn"),
    ("company", "北京纷扬科技有限公司"),
    ("keyword", "竞品调研"),
]


@pytest.fixture
def blacklisted(tenant_a: CreatedTenant) -> CreatedTenant:
    with tenant_scope(tenant_a.tenant.id):
        for kind, value in BLACKLIST:
            blacklist_entry_add(tenant=tenant_a.tenant, kind=kind, value=value)
    return tenant_a


@pytest.mark.parametrize(
    ("payload", "reasons"),
    [
        ({"mobile": "+86 139-5281-6437"}, ["blacklist.phone"]),
        ({"mobile": next_mobile(), "phone": "(010) 62345578"}, ["blacklist.phone"]),
        ({"email": "BOSS@rival.com"}, ["blacklist.email"]),
        ({"email": "anyone@mail.spam.cn"}, ["blacklist.email_domain"]),
        ({"mobile": next_mobile(), "company": "纷扬科技（北京）有限公司"}, ["blacklist.company"]),
        ({"mobile": next_mobile(), "notes": "我们在做竞品 调研"}, ["blacklist.keyword"]),
        ({"mobile": "13952816437", "email": "x@spam.cn", "notes": "可代开发票"}, ["blacklist.phone", "blacklist.email_domain", "sensitive_word"]),
    ],
)
def test_a_blacklist_hit_quarantines_with_its_kinds_code(blacklisted, payload, reasons):
    outcome = submit_one(blacklisted, **payload)
    assert (outcome.outcome, outcome.reasons) == ("quarantined", reasons)
    assert outcome.intake_record.reasons == reasons


def test_leads_that_hit_nothing_are_created(blacklisted):
    outcome = submit_one(blacklisted, mobile=next_mobile(), email="boss@rival.com.cn", company="北京纷享科技有限公司")
    assert outcome.outcome == "created"


def test_one_tenants_blacklist_and_words_do_not_touch_another(blacklisted, tenant_b):
    with tenant_scope(blacklisted.tenant.id):
        sensitive_word_add(tenant=blacklisted.tenant, word="某某竞品")
        cleansing_policy_update(tenant=blacklisted.tenant, use_builtin_words=False)
    assert submit_one(tenant_b, mobile="13952816437", company="某某竞品").outcome == "created"
    assert submit_one(tenant_b, mobile=next_mobile(), notes="可代开发票").reasons == ["sensitive_word"]  # B's lexicon is on
    assert submit_one(blacklisted, mobile="13952816438", company="某某竞品").reasons == ["sensitive_word"]
    assert submit_one(blacklisted, mobile=next_mobile(), notes="可代开发票").outcome == "created"


def test_a_changed_list_applies_to_the_very_next_submission(tenant_a):
    mobile = next_mobile()
    assert submit_one(tenant_a, mobile=mobile, email="a@first.cn").outcome == "created"  # the matcher is now cached
    with tenant_scope(tenant_a.tenant.id):
        entry = blacklist_entry_add(tenant=tenant_a.tenant, kind="email_domain", value="first.cn")
    assert submit_one(tenant_a, mobile=next_mobile(), email="b@first.cn").reasons == ["blacklist.email_domain"]
    with tenant_scope(tenant_a.tenant.id):
        blacklist_entry_delete(tenant=tenant_a.tenant, entry_id=entry.id)
    assert submit_one(tenant_a, mobile=next_mobile(), email="c@first.cn").outcome == "created"
    with tenant_scope(tenant_a.tenant.id):
        blacklist_import(tenant=tenant_a.tenant, data=b"email_domain,first.cn\n")
    assert submit_one(tenant_a, mobile=next_mobile(), email="d@first.cn").reasons == ["blacklist.email_domain"]


def test_flag_mode_creates_the_lead_with_a_tag_instead(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        cleansing_policy_update(tenant=tenant_a.tenant, sensitive_action="flag")
    outcome = submit_one(tenant_a, mobile=next_mobile(), notes="可代开发票")
    assert outcome.outcome == "created"
    assert outcome.lead.tags == [SENSITIVE_TAG]
    clean = submit_one(tenant_a, mobile=next_mobile(), notes="想了解私有化部署")
    assert clean.lead.tags == []
    # a blacklist hit still quarantines in flag mode
    with tenant_scope(tenant_a.tenant.id):
        blacklist_entry_add(tenant=tenant_a.tenant, kind="keyword", value="代开发票")
    assert submit_one(tenant_a, mobile=next_mobile(), notes="可代开发票").reasons == ["blacklist.keyword"]


def test_tenant_words_and_exceptions_join_the_built_in_lexicon(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        sensitive_word_import(tenant=tenant_a.tenant, data="某某竞品\n例外,网上赌场风云\n".encode())
    assert submit_one(tenant_a, mobile=next_mobile(), company="某某竞品").reasons == ["sensitive_word"]
    assert submit_one(tenant_a, mobile=next_mobile(), notes="推荐网上赌场").reasons == ["sensitive_word"]
    assert submit_one(tenant_a, mobile=next_mobile(), notes="《网上赌场风云》影评").outcome == "created"
    with tenant_scope(tenant_a.tenant.id):
        cleansing_policy_update(tenant=tenant_a.tenant, use_builtin_words=False)
    assert submit_one(tenant_a, mobile=next_mobile(), notes="推荐网上赌场").outcome == "created"
    assert submit_one(tenant_a, mobile=next_mobile(), company="某某竞品").reasons == ["sensitive_word"]


def test_a_tenant_without_a_policy_row_keeps_the_defaults(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        CleansingPolicy.objects.all().delete()
    assert submit_one(tenant_a, mobile=next_mobile(), notes="可代开发票").reasons == ["sensitive_word"]


def test_a_restore_waives_blacklist_codes_and_a_waived_sensitive_word_still_tags(blacklisted):
    payload = {"name": "张伟", "mobile": "13952816437", "notes": "可代开发票"}
    assert submit(blacklisted, payload)[0].reasons == ["blacklist.phone", "sensitive_word"]
    partly = submit(blacklisted, payload, waived=frozenset({"blacklist.phone"}))[0]
    assert partly.reasons == ["sensitive_word"]
    restored = submit(blacklisted, payload, waived=frozenset({"blacklist.phone", "sensitive_word"}))[0]
    assert restored.outcome == "created" and restored.lead.tags == [SENSITIVE_TAG]


def _batch(created: CreatedTenant, payloads: list[dict[str, Any]]) -> IntakeBatch:
    now = timezone.now()
    batch = IntakeBatch(
        tenant=created.tenant, channel="bulk", submitted_by=None, api_key=None, waived_reasons=frozenset(), now=now,
        items=[IntakeItem(index=i, raw=raw, at=now) for i, raw in enumerate(payloads)],
    )
    normalise(batch)
    validate(batch)
    return batch


def test_the_cleanse_stage_costs_one_query_a_batch_and_loads_lists_only_after_a_change(blacklisted):
    payloads = [{"name": f"客户{i}", "mobile": next_mobile(), "notes": "你好"} for i in range(200)]
    with tenant_scope(blacklisted.tenant.id):
        sensitive_word_add(tenant=blacklisted.tenant, word="某某竞品")
        with CaptureQueriesContext(connection) as cold:
            cleanse(_batch(blacklisted, payloads))
        with CaptureQueriesContext(connection) as warm:
            cleanse(_batch(blacklisted, payloads))
        blacklist_entry_add(tenant=blacklisted.tenant, kind="keyword", value="新关键词")
        with CaptureQueriesContext(connection) as after_a_blacklist_change:
            cleanse(_batch(blacklisted, payloads))
    assert len(cold) == 3  # the policy, then the entries and the words to build the matchers
    assert len(warm) == 1 and "leads_cleansingpolicy" in warm[0]["sql"]
    assert len(after_a_blacklist_change) == 2  # the policy and the entries; the words' matcher is kept


def test_cost_per_lead_with_a_10k_blacklist_and_100k_words(tenant_a):
    """A report of the cleanse stage's cost per lead (the figures go in the hand-over), with the
    built-in lexicon only and with a 10,000-entry blacklist and 100,000 tenant words."""
    fake = Faker("zh_CN")
    fake.seed_instance(11)
    rnd = random.Random(11)
    payloads = [
        {"name": fake.name(), "mobile": next_mobile(), "email": fake.email(), "company": fake.company(),
         "title": fake.job(), "campaign": "2025春季展会", "notes": fake.sentence() if i % 2 else ""}
        for i in range(1000)
    ]

    def per_lead() -> float:
        with tenant_scope(tenant_a.tenant.id):
            best = float("inf")
            for _ in range(3):
                batch = _batch(tenant_a, payloads)
                started = time.perf_counter()
                cleanse(batch)
                best = min(best, time.perf_counter() - started)
        return best / len(payloads) * 1e6

    builtin_only = per_lead()
    blacklist_lines = [f"手机,139{rnd.randrange(10**8):08d}" for _ in range(6000)]
    blacklist_lines += [f"域名,spam{i}.cn" for i in range(1000)] + [f"邮箱,x{i}@rival.com" for i in range(1000)]
    blacklist_lines += [f"公司,{fake.company()}{i}" for i in range(1000)] + [f"关键词,竞品{i}号" for i in range(1000)]
    words: dict[str, str] = {}
    while len(words) < 100_000:
        word = "".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(rnd.randint(2, 6))) if rnd.random() < 0.7 else (
            "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(4, 12))))
        words.setdefault(sensitive_word_normalise(word), word)
    with tenant_scope(tenant_a.tenant.id):
        entries = blacklist_import(tenant=tenant_a.tenant, data="\n".join(blacklist_lines).encode(), skip_invalid=True)
        sensitive_word_import(tenant=tenant_a.tenant, data="\n".join(words.values()).encode())
        started = time.perf_counter()
        cleanse(_batch(tenant_a, payloads[:1]))  # loads both lists and builds both matchers
        first_batch = time.perf_counter() - started
    with_lists = per_lead()
    with tenant_scope(tenant_a.tenant.id):
        cleansing_rules_for_intake(tenant_id=tenant_a.tenant.id)
        started = time.perf_counter()
        for _ in range(200):
            cleansing_rules_for_intake(tenant_id=tenant_a.tenant.id)
        policy_read = (time.perf_counter() - started) / 200 * 1e6
    print(  # noqa: T201 (the report)
        f"\ncleanse stage per lead: built-in lexicon only {builtin_only:.1f} µs; with {entries.added_count} blacklist "
        f"entries and 100,000 words {with_lists:.1f} µs; per batch, the policy read {policy_read:.0f} µs; "
        f"first batch after a change (load + build) {first_batch:.2f} s"
    )
    assert entries.added_count > 9_900
