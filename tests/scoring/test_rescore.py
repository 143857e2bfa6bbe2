"""Publishing a rule set and the set-based rescore behind it (real PostgreSQL; a real Celery
worker where the job goes through the broker)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring import signals
from scoring.models import (
    EventType,
    LeadEvent,
    RescoreChunk,
    RescoreJob,
    RescoreJobStatus,
    RuleSetStatus,
    ScoreChange,
    ScoringRuleSet,
)
from scoring.rescore import RescoreBusy, decay_jobs_create, rescore_job_create, rescore_job_run
from scoring.rule_set_selectors import rule_set_preview
from scoring.rule_sets import (
    NotADraft,
    attribute_rule_save,
    rule_set_draft_get_or_create,
    rule_set_draft_settings_update,
    rule_set_publish,
)
from tests.conftest import CreatedTenant
from tests.factories import lead_make

D = Decimal


def _leads(created: CreatedTenant, count: int = 6) -> list[Lead]:
    industries = ["制造业", "教育", "制造业 ", "金融", "MANUFACTURING", ""]
    return [lead_make(created, company="纷扬科技", industry=industries[n % len(industries)], title="CEO" if n % 2 else "工程师")
            for n in range(count)]


def _draft_with_industry_rule(created: CreatedTenant, points: int = 30) -> ScoringRuleSet:
    with tenant_scope(created.tenant.id):
        draft = rule_set_draft_get_or_create(tenant=created.tenant)
        attribute_rule_save(rule_set=draft, rule_id=None, data={
            "label": "制造业", "dimension": "company", "field": "industry", "operator": "in",
            "value": "制造业, manufacturing", "points": str(points),
        })
        return draft


def _scores(created: CreatedTenant) -> dict[int, tuple[Decimal, int | None]]:
    with tenant_scope(created.tenant.id):
        return {lead.id: (lead.score_total, lead.score_version) for lead in Lead.objects.order_by("id")}


def _history(created: CreatedTenant) -> list[tuple[int, str, Decimal | None, Decimal]]:
    with tenant_scope(created.tenant.id):
        return list(ScoreChange.objects.filter(reason__in=["rescore", "decay"]).order_by("lead_id")
                    .values_list("lead_id", "reason", "previous_total", "total"))


@pytest.mark.django_db(transaction=True)
def test_publishing_rescores_every_lead_through_the_worker(celery_worker_process):
    from tests.conftest import make_tenant

    created = make_tenant("rescore-worker", with_api_key=False)
    leads = _leads(created)
    before = _scores(created)
    assert {version for _total, version in before.values()} == {1}
    draft = _draft_with_industry_rule(created)
    with tenant_scope(created.tenant.id):
        published = rule_set_publish(tenant=created.tenant, rule_set=draft, user=created.owner.user)
    assert published.job.total == len(leads)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with tenant_scope(created.tenant.id):
            job = RescoreJob.objects.get(id=published.job.id)
        if job.status == RescoreJobStatus.DONE:
            break
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.3)
    assert (job.status, job.done, job.total) == (RescoreJobStatus.DONE, 6, 6)
    after = _scores(created)
    assert {version for _total, version in after.values()} == {2}
    manufacturing = {leads[n].id for n in (0, 2, 4)}  # 制造业, "制造业 " and MANUFACTURING all match
    for lead_id, (total, _version) in after.items():
        assert total == before[lead_id][0] + (30 if lead_id in manufacturing else 0)
    # History only for the leads whose total moved, with the total before.
    assert _history(created) == [(lead_id, "rescore", before[lead_id][0], after[lead_id][0])
                                 for lead_id in sorted(manufacturing)]
    with tenant_scope(created.tenant.id):
        statuses = dict(ScoringRuleSet.objects.values_list("version", "status"))
    assert statuses == {1: RuleSetStatus.ARCHIVED, 2: RuleSetStatus.PUBLISHED}


@pytest.mark.django_db
def test_running_a_job_again_changes_nothing(tenant_a):
    _leads(tenant_a)
    draft = _draft_with_industry_rule(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        job = rule_set_publish(tenant=tenant_a.tenant, rule_set=draft, user=None).job
    done = rescore_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id, chunk_size=4)
    assert done is not None and (done.status, done.done, done.changed) == ("done", 6, 6)
    scores, history = _scores(tenant_a), _history(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        scored_at = list(Lead.objects.order_by("id").values_list("scored_at", flat=True))
        # The same job again, and a fresh job over the same rules: nothing written.
        RescoreJob.objects.filter(id=job.id).update(status="queued", done=0, changed=0)
        RescoreChunk.objects.filter(job_id=job.id).delete()
    again = rescore_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id)
    assert again is not None and again.changed == 0
    assert (_scores(tenant_a), _history(tenant_a)) == (scores, history)
    with tenant_scope(tenant_a.tenant.id):
        assert list(Lead.objects.order_by("id").values_list("scored_at", flat=True)) == scored_at


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_job_apply_it_once():
    from tests.conftest import make_tenant

    created = make_tenant("rescore-twice", with_api_key=False)
    _leads(created, 12)
    draft = _draft_with_industry_rule(created)
    with tenant_scope(created.tenant.id):
        job = rule_set_publish(tenant=created.tenant, rule_set=draft, user=None).job
    errors: list[BaseException] = []

    def work() -> None:
        try:
            rescore_job_run(tenant_id=created.tenant.id, job_id=job.id, chunk_size=2)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with tenant_scope(created.tenant.id):
        job.refresh_from_db()
        changes = list(ScoreChange.objects.filter(reason="rescore").values_list("lead_id", flat=True))
    assert (job.status, job.done, job.total) == ("done", 12, 12)
    assert len(changes) == len(set(changes)) == 6  # one row per changed lead, none twice


@pytest.mark.django_db(transaction=True)
def test_a_chunk_another_worker_holds_is_left_to_it_and_taken_again_if_that_worker_dies():
    from tests.conftest import make_tenant

    created = make_tenant("rescore-held", with_api_key=False)
    leads = _leads(created, 6)
    draft = _draft_with_industry_rule(created)
    with tenant_scope(created.tenant.id):
        job = rule_set_publish(tenant=created.tenant, rule_set=draft, user=None).job
    held, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        # Takes the first chunk as a worker does, then dies before finishing it (rolls back).
        try:
            with tenant_scope(created.tenant.id):
                first = RescoreChunk.objects.select_for_update().filter(job_id=job.id).order_by("low_id").first()
                assert first is not None
                held.set()
                release.wait(30)
                raise RuntimeError("killed")
        except RuntimeError:
            pass
        finally:
            connections.close_all()

    rescore_job_run(tenant_id=created.tenant.id, job_id=job.id, chunk_size=2)  # cuts the job: 3 chunks
    with tenant_scope(created.tenant.id):
        RescoreJob.objects.filter(id=job.id).update(status="queued", done=0, changed=0)
        RescoreChunk.objects.filter(job_id=job.id).update(done_at=None)
    thread = threading.Thread(target=other_worker)
    thread.start()
    assert held.wait(30)
    # This worker does the two chunks nobody holds, and leaves the job running.
    running = rescore_job_run(tenant_id=created.tenant.id, job_id=job.id, chunk_size=2)
    assert running is not None and (running.status, running.done) == ("running", 4)
    release.set()
    thread.join(30)
    # The dead worker's chunk is undone: the next run takes it and closes the job.
    finished = rescore_job_run(tenant_id=created.tenant.id, job_id=job.id, chunk_size=2)
    assert finished is not None and (finished.status, finished.done, finished.total) == ("done", 6, 6)
    assert {version for _total, version in _scores(created).values()} == {2}
    assert len(leads) == 6


@pytest.mark.django_db
def test_a_publish_while_a_rescore_runs_is_refused_and_changes_nothing(tenant_a):
    _leads(tenant_a, 2)
    draft = _draft_with_industry_rule(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        published = ScoringRuleSet.objects.get(status="published")
        running = rescore_job_create(tenant=tenant_a.tenant, rule_set=published, reason="decay")
        RescoreJob.objects.filter(id=running.id).update(status="running")
        with pytest.raises(RescoreBusy):
            rule_set_publish(tenant=tenant_a.tenant, rule_set=draft, user=None)
        assert dict(ScoringRuleSet.objects.values_list("version", "status")) == {1: "published", 2: "draft"}
        assert RescoreJob.objects.count() == 1
        with pytest.raises(RescoreBusy):
            rescore_job_create(tenant=tenant_a.tenant, rule_set=published)


@pytest.mark.django_db
def test_an_invalid_draft_is_not_published(tenant_a):
    draft = _draft_with_industry_rule(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        ScoringRuleSet.objects.filter(id=draft.id).update(grade_b=D(80))  # above grade A (75)
        draft.refresh_from_db()
        with pytest.raises(ValidationError) as raised:
            rule_set_publish(tenant=tenant_a.tenant, rule_set=draft, user=None)
        assert "grade_a" in raised.value.message_dict
        assert dict(ScoringRuleSet.objects.values_list("version", "status")) == {1: "published", 2: "draft"}
        assert not RescoreJob.objects.exists()
        with pytest.raises(ValidationError) as raised:
            rule_set_draft_settings_update(rule_set=draft, data={
                "grade_a": "50", "grade_b": "60", "grade_c": "25", "level_1": "60", "level_2": "30",
                "tier_hot": "80", "tier_warm": "50", "mature": "50", "inactivity_days": "", "cap_company": "-3",
            })
        assert set(raised.value.message_dict) >= {"grade_a", "cap_company"}  # A (50) below B (60)
        with pytest.raises(ValidationError) as raised:
            attribute_rule_save(rule_set=draft, rule_id=None, data={
                "label": "x", "dimension": "company", "field": "no_such_field", "operator": "equals", "value": "a",
                "points": "5",
            })
        assert "field" in raised.value.message_dict
        published = ScoringRuleSet.objects.get(status="published")
        with pytest.raises(NotADraft):
            attribute_rule_save(rule_set=published, rule_id=None, data={})


@pytest.mark.django_db
def test_crossings_are_announced_once_after_commit(tenant_a, django_capture_on_commit_callbacks):
    leads = _leads(tenant_a, 2)
    draft = _draft_with_industry_rule(tenant_a, points=60)  # 制造业 leads reach the maturity line
    received: list[tuple[str, list[int]]] = []

    def on_mature(sender: object, tenant_id: int, lead_ids: list[int], **kwargs: object) -> None:
        received.append(("mature", lead_ids))

    signals.lead_became_mature.connect(on_mature)
    try:
        with tenant_scope(tenant_a.tenant.id):
            job = rule_set_publish(tenant=tenant_a.tenant, rule_set=draft, user=None).job
        with django_capture_on_commit_callbacks(execute=True):
            rescore_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id)
        with django_capture_on_commit_callbacks(execute=True):
            with tenant_scope(tenant_a.tenant.id):
                RescoreJob.objects.filter(id=job.id).update(status="queued")
                RescoreChunk.objects.filter(job_id=job.id).delete()
            rescore_job_run(tenant_id=tenant_a.tenant.id, job_id=job.id)
    finally:
        signals.lead_became_mature.disconnect(on_mature)
    assert received == [("mature", [leads[0].id])]


@pytest.mark.django_db
def test_the_nightly_decay_lowers_old_event_points_and_writes_decay_history(tenant_a):
    (lead,) = _leads(tenant_a, 1)
    with tenant_scope(tenant_a.tenant.id):
        # Demo request: 25 points, half-life 90 days; one 90 days old counts 12.50 tonight.
        LeadEvent.objects.create(tenant=tenant_a.tenant, lead=lead, event_id="e1", type="demo_request",
                                 occurred_at=timezone.now() - timedelta(days=90), ref_kind="id", ref_value=str(lead.id))
        Lead.objects.filter(id=lead.id).update(last_activity_at=timezone.now())
        other = _leads(tenant_a, 1)[0]
    job_ids = decay_jobs_create()
    assert len(job_ids) == 1
    rescore_job_run(tenant_id=tenant_a.tenant.id, job_id=job_ids[0])
    with tenant_scope(tenant_a.tenant.id):
        lead.refresh_from_db()
        assert lead.score_dynamic == D("12.50")
        assert list(ScoreChange.objects.filter(reason="decay").values_list("lead_id", flat=True)) == [lead.id]
        job = RescoreJob.objects.get(id=job_ids[0])
        assert (job.status, job.reason, job.changed) == ("done", "decay", 1)
        assert other.id != lead.id
    # The next night with nothing new: the job runs and writes nothing.
    second = decay_jobs_create()
    assert rescore_job_run(tenant_id=tenant_a.tenant.id, job_id=second[0]).changed == 0  # type: ignore[union-attr]


@pytest.mark.django_db
def test_preview_shows_grade_and_tier_distribution_current_and_draft(tenant_a):
    _leads(tenant_a)
    draft = _draft_with_industry_rule(tenant_a, points=80)
    with tenant_scope(tenant_a.tenant.id):
        preview = rule_set_preview(tenant_id=tenant_a.tenant.id, rule_set=draft)
        stored = list(Lead.objects.values_list("grade", flat=True))
    assert (preview.leads, preview.sampled) == (6, False)
    grades = {row.key: (row.current, row.draft) for row in preview.grades}
    assert grades["A"] == (0, 3) and sum(current for current, _ in grades.values()) == 6
    assert grades["D"][0] == stored.count("D")
    assert preview.moved_grade == 3
    with tenant_scope(tenant_a.tenant.id):
        assert list(Lead.objects.values_list("grade", flat=True)) == stored  # a preview writes nothing


@pytest.mark.django_db
def test_another_tenants_job_is_not_run(tenant_a, tenant_b):
    _leads(tenant_a, 1)
    with tenant_scope(tenant_a.tenant.id):
        published = ScoringRuleSet.objects.get(status="published")
        job = rescore_job_create(tenant=tenant_a.tenant, rule_set=published)
    assert rescore_job_run(tenant_id=tenant_b.tenant.id, job_id=job.id) is None
    with tenant_scope(tenant_a.tenant.id):
        assert RescoreJob.objects.get(id=job.id).status == "queued"
    assert connection.in_atomic_block  # the test's own transaction, untouched
    assert EventType is not None
