"""Rescoring a tenant's leads set-based (SPEC §4): after a publish (reason `rescore`) and each
night for the scores time changes (reason `decay`).

A `RescoreJob` cuts the tenant's lead ids into `RescoreChunk`s (one set-based INSERT). Each
chunk is one transaction and one statement: the SQL engine (`engine_sql`) scores the chunk's
leads, an UPDATE writes the leads whose score columns or version differ, an INSERT adds a
`ScoreChange` for those whose total changed (or that had no score), and the statement returns
the ids that became mature or hot. A worker takes a chunk with FOR UPDATE SKIP LOCKED and marks
it done in the same transaction, so two workers on one job score different chunks at once (the
time goes into writing the lead table's indexes, which two cores do side by side), and a worker
killed mid-chunk leaves nothing of that chunk behind: the next run takes it again. Rescoring
twice writes nothing the second time (unchanged rows are not touched).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Least
from django.utils import timezone

from leadcrm.tenancy.models import Tenant
from leadcrm.tenancy.scoping import tenant_scope
from scoring import engine, engine_sql
from scoring.models import (
    ACTIVE_RESCORE_STATUSES,
    RescoreChunk,
    RescoreJob,
    RescoreJobStatus,
    RuleSetStatus,
    ScoreChangeReason,
    ScoringRuleSet,
)
from scoring.services import rules_for
from scoring.signals import score_crossings_announce

logger = logging.getLogger(__name__)

CHUNK_SIZE = 20_000  # 20k leads: a transaction of a few seconds, so two workers end close together


class RescoreBusy(Exception):
    """The tenant already has a rescore queued or running."""


@dataclass(frozen=True)
class ChunkOutcome:
    scanned: int
    changed: int
    history: int
    mature_ids: list[int]
    hot_ids: list[int]


_CHUNK_SQL = """
WITH {ctes},
written AS (
    UPDATE leads_lead AS l SET
        score_total = s.total, score_static = s.static, score_dynamic = s.dynamic, grade = s.grade,
        level = s.level, tier = s.tier, is_mature = s.mature, scored_at = %(now)s, score_version = %(version)s
    FROM scored AS s
    WHERE l.tenant_id = %(tenant)s AND l.id = s.id AND l.id > %(low)s AND l.id <= %(high)s AND (
        s.old_scored_at IS NULL
        OR (s.old_total, s.old_static, s.old_dynamic, s.old_grade, s.old_level, s.old_tier, s.old_mature,
            s.old_version)
           IS DISTINCT FROM (s.total, s.static, s.dynamic, s.grade, s.level, s.tier, s.mature, %(version)s)
    )
    RETURNING s.*
),
history AS (
    INSERT INTO scoring_scorechange (
        tenant_id, created_at, updated_at, lead_id, at, reason, version, previous_total, total, static, dynamic,
        grade, level, tier, mature
    )
    SELECT %(tenant)s, %(now)s, %(now)s, w.id, %(now)s, %(reason)s, %(version)s,
           CASE WHEN w.old_scored_at IS NULL THEN NULL ELSE w.old_total END,
           w.total, w.static, w.dynamic, w.grade, w.level, w.tier, w.mature
    FROM written AS w
    WHERE w.old_scored_at IS NULL OR w.old_total <> w.total
    RETURNING 1
)
SELECT (SELECT count(*) FROM target), (SELECT count(*) FROM written), (SELECT count(*) FROM history),
       coalesce((SELECT array_agg(id) FROM written WHERE mature AND NOT old_mature), '{{}}'),
       coalesce((SELECT array_agg(id) FROM written WHERE tier = 'hot' AND old_tier <> 'hot'), '{{}}')
"""


def decay_filter(rules: engine.RuleSet) -> str | None:
    """SQL (alias `l`, params `decaying`, `inactive_before`) keeping the leads whose score can
    move with time alone: those with a decaying event, or old enough for the inactivity penalty.
    None: nothing in these rules changes with time."""
    parts = []
    if any(rule.half_life_days for rule in rules.event_rules.values()):
        parts.append(
            "EXISTS (SELECT 1 FROM scoring_leadevent AS e WHERE e.tenant_id = l.tenant_id AND e.lead_id = l.id"
            f" AND e.type = ANY(%(decaying)s) AND e.status = 'attached' AND e.flag IN {engine_sql.SCORED_FLAGS_SQL})"
        )
    if rules.inactivity_days is not None and rules.inactivity_points != 0:
        # The clock starts at created_at at the latest (services.lead_inactivity_start).
        parts.append("l.created_at <= %(inactive_before)s")
    return " OR ".join(parts) or None


def rescore_chunk(
    *, tenant_id: int, rules: engine.RuleSet, reason: str, low_id: int, high_id: int, now: datetime,
) -> ChunkOutcome:
    """Score the tenant's leads with low_id < id ≤ high_id (inside the caller's transaction)."""
    lead_filter = "l.id > %(low)s AND l.id <= %(high)s"
    filter_params: dict[str, Any] = {"low": low_id, "high": high_id}
    if reason == ScoreChangeReason.DECAY:
        if (extra := decay_filter(rules)) is None:
            return ChunkOutcome(scanned=0, changed=0, history=0, mature_ids=[], hot_ids=[])
        lead_filter += f" AND ({extra})"
        filter_params["decaying"] = [rule.key for rule in rules.event_rules.values() if rule.half_life_days]
        filter_params["inactive_before"] = now - timedelta(days=rules.inactivity_days or 0)
    built = engine_sql.score_select(
        rules=rules, tenant_id=tenant_id, now=now, lead_filter=lead_filter, filter_params=filter_params,
    )
    params = {**built.params, "tenant": tenant_id, "now": now, "version": rules.version, "reason": reason}
    with connection.cursor() as cursor:
        # The decay's float text must be the shortest round-trip form (as Python's str(float)).
        cursor.execute("SELECT set_config('extra_float_digits', '1', true)")
        cursor.execute(_CHUNK_SQL.format(ctes=built.ctes), params)
        scanned, changed, history, mature_ids, hot_ids = cursor.fetchone()
    return ChunkOutcome(scanned=scanned, changed=changed, history=history, mature_ids=mature_ids, hot_ids=hot_ids)


_CHUNKS_PLAN_SQL = """
INSERT INTO scoring_rescorechunk (tenant_id, created_at, updated_at, job_id, low_id, high_id, leads)
SELECT %(tenant)s, now(), now(), %(job)s, coalesce(lag(high) OVER (ORDER BY n), 0), high, leads
FROM (
    SELECT n, max(id) AS high, count(*) AS leads
    FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / %(size)s AS n
          FROM leads_lead WHERE tenant_id = %(tenant)s AND id <= %(last)s) AS numbered
    GROUP BY n
) AS chunks
"""


def _leads_span(*, tenant_id: int) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM leads_lead WHERE tenant_id = %s", [tenant_id])
        count, last_id = cursor.fetchone()
    return count, last_id


def rescore_job_create(
    *, tenant: Tenant, rule_set: ScoringRuleSet, reason: str = ScoreChangeReason.RESCORE, created_by: Any = None,
) -> RescoreJob:
    """A queued job over every lead of the tenant so far (inside the caller's transaction; the
    caller enqueues `rescore_job_run_task` on commit). Raises RescoreBusy when one is active."""
    if RescoreJob.objects.filter(status__in=ACTIVE_RESCORE_STATUSES).exists():
        raise RescoreBusy
    total, last_id = _leads_span(tenant_id=tenant.id)
    try:
        with transaction.atomic():
            return RescoreJob.objects.create(
                tenant=tenant, rule_set=rule_set, version=rule_set.version, reason=reason, total=total,
                last_lead_id=last_id, created_by=created_by,
            )
    except IntegrityError as error:  # another job became active meanwhile (the unique constraint)
        raise RescoreBusy from error


def _job_start(*, tenant_id: int, job_id: int, chunk_size: int) -> RescoreJob | None:
    """Mark the job running and cut it into chunks, once (the first worker to lock it)."""
    with tenant_scope(tenant_id):
        job = RescoreJob.objects.select_for_update().filter(id=job_id).first()
        if job is None or not job.is_active:
            return job
        if job.status == RescoreJobStatus.QUEUED:
            job.status, job.started_at = RescoreJobStatus.RUNNING, job.started_at or timezone.now()
            job.save(update_fields=["status", "started_at", "updated_at"])
        if not RescoreChunk.objects.filter(job_id=job.id).exists():
            with connection.cursor() as cursor:
                cursor.execute(_CHUNKS_PLAN_SQL, {
                    "tenant": tenant_id, "job": job.id, "size": chunk_size, "last": job.last_lead_id,
                })
        return job


def _chunk_run(*, tenant_id: int, job_id: int) -> bool:
    """Take one undone chunk nobody holds and score it, in one transaction. False: none left
    to take (all done, or the rest held by other workers), or the job is no longer active."""
    with tenant_scope(tenant_id):
        with connection.cursor() as cursor:
            # Safe: a chunk lost with an unflushed commit is undone and is taken again. No JIT:
            # the statement's estimates are huge, and compiling it cost more than running it.
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL jit = off")
        chunk = (
            RescoreChunk.objects.select_for_update(skip_locked=True)
            .filter(job_id=job_id, done_at__isnull=True).order_by("low_id").first()
        )
        if chunk is None:
            return False
        job = RescoreJob.objects.filter(id=job_id).first()
        if job is None or not job.is_active:  # failed meanwhile: its chunks wait for a retry
            return False
        rules = rules_for(tenant_id=tenant_id, rule_set_id=job.rule_set_id, version=job.version)
        now = timezone.now()
        outcome = rescore_chunk(
            tenant_id=tenant_id, rules=rules, reason=job.reason, low_id=chunk.low_id, high_id=chunk.high_id, now=now,
        )
        RescoreChunk.objects.filter(id=chunk.id).update(done_at=now, updated_at=now)
        # Last in the transaction: the other worker waits on this row only until our commit.
        RescoreJob.objects.filter(id=job_id).update(
            done=Least(F("total"), F("done") + chunk.leads), changed=F("changed") + outcome.changed, updated_at=now,
        )
        score_crossings_announce(tenant_id=tenant_id, mature_ids=outcome.mature_ids, hot_ids=outcome.hot_ids)
    return True


def _job_finish(*, tenant_id: int, job_id: int) -> RescoreJob | None:
    """Done when no chunk is left undone (whoever finishes last closes it)."""
    with tenant_scope(tenant_id):
        now = timezone.now()
        RescoreJob.objects.filter(id=job_id, status=RescoreJobStatus.RUNNING).exclude(
            Exists(RescoreChunk.objects.filter(job_id=OuterRef("id"), done_at__isnull=True))
        ).update(status=RescoreJobStatus.DONE, finished_at=now, done=F("total"), updated_at=now)
        return RescoreJob.objects.filter(id=job_id).first()


def rescore_job_run(*, tenant_id: int, job_id: int, chunk_size: int = CHUNK_SIZE) -> RescoreJob | None:
    """Run (or resume) the job, one transaction per chunk. Safe to call again, and from several
    workers at once: each takes the chunks the others do not hold. None: no such job (deleted,
    or another tenant's)."""
    job = _job_start(tenant_id=tenant_id, job_id=job_id, chunk_size=chunk_size)
    if job is None or not job.is_active:
        return job
    while _chunk_run(tenant_id=tenant_id, job_id=job_id):
        pass
    return _job_finish(tenant_id=tenant_id, job_id=job_id)


def rescore_job_fail(*, tenant_id: int, job_id: int, error: str) -> None:
    """Mark the job failed (it no longer blocks a publish; `rescore_job_retry` runs it again)."""
    with tenant_scope(tenant_id):
        RescoreJob.objects.filter(id=job_id, status__in=ACTIVE_RESCORE_STATUSES).update(
            status=RescoreJobStatus.FAILED, error=error[:2000], finished_at=timezone.now(),
        )


def rescore_job_retry(*, tenant: Tenant, job: RescoreJob) -> RescoreJob:
    """Queue a failed job again; it continues from its cursor. Raises RescoreBusy."""
    try:
        with transaction.atomic():
            updated = RescoreJob.objects.filter(id=job.id, status=RescoreJobStatus.FAILED).update(
                status=RescoreJobStatus.QUEUED, error="", finished_at=None,
            )
    except IntegrityError as error:
        raise RescoreBusy from error
    job.refresh_from_db()
    if updated:
        _enqueue(job)
    return job


def _enqueue(job: RescoreJob) -> None:
    """One task per worker that should share the job (settings.SCORING_RESCORE_WORKERS): each
    takes chunks until none is left; with fewer workers up, the later tasks find it done."""
    from scoring.tasks import rescore_job_run_task

    for _ in range(max(1, settings.SCORING_RESCORE_WORKERS)):
        rescore_job_run_task.delay_on_commit(tenant_id=job.tenant_id, job_id=job.id)


def rescore_job_enqueue(*, job: RescoreJob) -> None:
    _enqueue(job)


def decay_jobs_create(*, now: datetime | None = None) -> list[int]:
    """The nightly decay: for every tenant whose published rules change with time, a `decay`
    job (skipped when a rescore is active: it scores as of its own time anyway). Returns the
    job ids, enqueued on commit."""
    # Cross-tenant: goes tenant by tenant under RLS, like the other housekeeping tasks.
    job_ids = []
    for tenant in Tenant.objects.order_by("id"):
        with tenant_scope(tenant.id):
            rule_set = ScoringRuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).first()
            if rule_set is None:
                continue
            rules = rules_for(tenant_id=tenant.id, rule_set_id=rule_set.id, version=rule_set.version)
            if decay_filter(rules) is None:
                continue
            try:
                job = rescore_job_create(tenant=tenant, rule_set=rule_set, reason=ScoreChangeReason.DECAY)
            except RescoreBusy:
                continue
            _enqueue(job)
            job_ids.append(job.id)
    return job_ids
