"""Editing a tenant's cleansing rules (SPEC §3): blacklist entries, sensitive words, the policy.

Every change runs in one transaction that locks the tenant's `CleansingPolicy` row, writes,
bumps the versions and records an audit row. The lock serialises a tenant's edits, so the caps
hold and an import's counts are exact however many admins click at once; the version bump is
what makes every process rebuild its matcher at its next intake (the caches in leads.cleansing
are keyed by it). A bad entry raises before anything is written: nothing is half-applied.

Choices made here, and why:
- A duplicate entry (the same value once normalised: "138 1234 5678" is "+8613812345678") is
  an error (`CleansingEntryExists`, a 409 on the API) naming the entry already there: the admin
  learns their list already holds it, and an integrator syncing a list can ignore the 409.
- An imported file is all or nothing by default: with one refused line nothing is added and
  every refused line is listed with its number and reason. `skip_invalid=True` adds the good
  lines and reports the rest. Lines already in the list (or repeated in the file) are counted
  as duplicates, never as errors.
- Caps: 100,000 blacklist entries and 100,000 sensitive words per tenant. A 100,000-word
  automaton holds ~40–60 MB in every web and worker process and takes ~2 s to build after a
  change; a larger list is refused whole with a message saying how many more fit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadcrm.tenancy.models import ApiKey, Tenant
from leadcrm.tenancy.services import audit_log_record
from leads.cleansing import (
    BLACKLIST_KINDS,
    MAX_FILE_ENTRIES,
    BlacklistFileError,
    ListEntryError,
    blacklist_entry_normalise,
    blacklist_file_parse,
    sensitive_word_category,
    sensitive_word_file_parse,
    sensitive_word_normalise,
)
from leads.models import BlacklistEntry, CleansingPolicy, SensitiveAction, SensitiveWord
from leads.normalization import clean_text

MAX_BLACKLIST_ENTRIES = 100_000
MAX_SENSITIVE_WORDS = 100_000
MAX_LIST_FILE_BYTES = 10_000_000  # 100,000 lines of long company names fit several times over


class CleansingEntryExists(Exception):
    """The entry is already in the tenant's list (`existing` is the stored one)."""

    def __init__(self, message: str, *, existing: BlacklistEntry | SensitiveWord) -> None:
        super().__init__(message)
        self.message = message
        self.existing = existing


@dataclass(frozen=True)
class ListImportReport:
    """What an import did: `added_count` new entries, `duplicate_count` lines already in the list
    or repeated in the file, and every refused line with its number and reason."""

    encoding: str
    added_count: int
    duplicate_count: int
    refused: list[BlacklistFileError] = field(default_factory=list)


class ListImportRefused(Exception):
    """Nothing was imported: `message` says why; `refused` lists the lines at fault (none when
    the file as a whole is the problem: not text, empty, over the cap)."""

    def __init__(self, message: str, *, refused: Sequence[BlacklistFileError] = (), encoding: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.refused = list(refused)
        self.encoding = encoding


# --- the policy row and its versions ------------------------------------------------------------


def cleansing_policy_defaults_install(*, tenant: Tenant) -> None:
    """A new tenant's cleansing policy (API.md defaults: the built-in sensitive words on, a hit
    quarantines). Idempotent."""
    CleansingPolicy.objects.get_or_create(tenant=tenant)


def _policy_locked(*, tenant: Tenant) -> CleansingPolicy:
    """The tenant's policy row, locked until the transaction ends; created when a tenant made
    before cleansing rules existed has none."""
    policy = CleansingPolicy.objects.select_for_update().filter(tenant=tenant).first()
    if policy is None:
        CleansingPolicy.objects.get_or_create(tenant=tenant)  # a racing creator's row wins
        policy = CleansingPolicy.objects.select_for_update().get(tenant=tenant)
    return policy


def _versions_bump(policy: CleansingPolicy, *, blacklist: bool = False, words: bool = False) -> None:
    policy.version += 1
    fields = ["version", "updated_at"]
    if blacklist:
        policy.blacklist_version += 1
        fields.append("blacklist_version")
    if words:
        policy.words_version += 1
        fields.append("words_version")
    policy.save(update_fields=fields)


def _audit(
    *, tenant: Tenant, action: str, object_type: str, object_id: Any, changes: dict[str, Any],
    actor: User | None, actor_api_key: ApiKey | None,
) -> None:
    audit_log_record(
        tenant=tenant, action=action, object_type=object_type, object_id=object_id, changes=changes, actor=actor,
        actor_api_key=actor_api_key,
    )


# --- blacklist ----------------------------------------------------------------------------------


def _cap_message(*, limit: int, count: int, adding: int) -> str:
    return _("最多 {limit} 条：现有 {count} 条，这次要新增 {adding} 条，还能再加 {room} 条。请先删除不再需要的条目，或分批导入").format(
        limit=limit, count=count, adding=adding, room=max(limit - count, 0)
    )


@transaction.atomic
def blacklist_entry_add(
    *, tenant: Tenant, kind: str, value: str, note: str = "", actor: User | None = None,
    actor_api_key: ApiKey | None = None,
) -> BlacklistEntry:
    """Add one entry. ValidationError (on `kind` or `value`) saying what to fix, or
    CleansingEntryExists; nothing is written then."""
    if kind not in BLACKLIST_KINDS:
        raise ValidationError({"kind": [_("请选择类型：{kinds}").format(kinds=", ".join(BLACKLIST_KINDS))]})
    try:
        normalised = blacklist_entry_normalise(kind, value)
    except ListEntryError as error:
        raise ValidationError({"value": [error.message]}) from None
    note = " ".join(note.split())
    if len(note) > 200:
        raise ValidationError({"note": [_("备注最多 200 个字")]})
    policy = _policy_locked(tenant=tenant)
    if (existing := BlacklistEntry.objects.filter(kind=kind, value=normalised).first()) is not None:
        raise CleansingEntryExists(
            _("“{value}”已在黑名单中（{added} 添加）").format(
                value=existing.original, added=timezone.localtime(existing.created_at).strftime("%Y-%m-%d")
            ),
            existing=existing,
        )
    if (count := BlacklistEntry.objects.count()) >= MAX_BLACKLIST_ENTRIES:
        raise ValidationError({"value": [_cap_message(limit=MAX_BLACKLIST_ENTRIES, count=count, adding=1)]})
    entry = BlacklistEntry.objects.create(
        tenant=tenant, kind=kind, value=normalised, original=clean_text(value)[:300], note=note,
        created_by=actor,
    )
    _versions_bump(policy, blacklist=True)
    _audit(
        tenant=tenant, action="blacklist.add", object_type="blacklist_entry", object_id=entry.id,
        changes={"kind": kind, "value": normalised, "note": note}, actor=actor, actor_api_key=actor_api_key,
    )
    return entry


@transaction.atomic
def blacklist_entry_delete(
    *, tenant: Tenant, entry_id: int, actor: User | None = None, actor_api_key: ApiKey | None = None
) -> BlacklistEntry:
    """Remove one entry; BlacklistEntry.DoesNotExist when the tenant has no such entry."""
    policy = _policy_locked(tenant=tenant)
    entry = BlacklistEntry.objects.get(id=entry_id)
    entry.delete()
    entry.id = entry_id  # delete() clears it; callers name what was deleted
    _versions_bump(policy, blacklist=True)
    _audit(
        tenant=tenant, action="blacklist.delete", object_type="blacklist_entry", object_id=entry_id,
        changes={"kind": entry.kind, "value": entry.value}, actor=actor, actor_api_key=actor_api_key,
    )
    return entry


_BLACKLIST_INSERT_SQL = """
    INSERT INTO leads_blacklistentry (tenant_id, kind, value, original, note, created_by_id, created_at, updated_at)
    SELECT %(tenant_id)s, r.kind, r.value, r.original, %(note)s, %(created_by)s, %(now)s, %(now)s
    FROM ROWS FROM (jsonb_to_recordset(%(rows)s::jsonb) AS (kind text, value text, original text))
        WITH ORDINALITY AS r(kind, value, original, n)
    ORDER BY r.n
    ON CONFLICT (tenant_id, kind, value) DO NOTHING
"""

_WORD_INSERT_SQL = """
    INSERT INTO leads_sensitiveword (tenant_id, word, original, category, created_by_id, created_at, updated_at)
    SELECT %(tenant_id)s, r.word, r.original, r.category, %(created_by)s, %(now)s, %(now)s
    FROM ROWS FROM (jsonb_to_recordset(%(rows)s::jsonb) AS (word text, original text, category text))
        WITH ORDINALITY AS r(word, original, category, n)
    ORDER BY r.n
    ON CONFLICT (tenant_id, word) DO NOTHING
"""


def _insert_rows(sql: str, *, tenant: Tenant, rows: list[dict[str, str]], actor: User | None, note: str = "") -> int:
    """One statement for the whole file, rows as one JSON parameter (no query per line, no
    placeholder per value); rows already in the list are skipped by the unique key. Returns
    how many were added."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(sql, {
            "tenant_id": tenant.id, "note": note, "created_by": actor.id if actor else None, "now": timezone.now(),
            "rows": json.dumps(rows, ensure_ascii=False),
        })
        return int(cursor.rowcount)


def _decode_failure(error: ListEntryError) -> ListImportRefused:
    return ListImportRefused(error.message)


@transaction.atomic
def blacklist_import(
    *, tenant: Tenant, data: bytes, kind: str | None = None, note: str = "", skip_invalid: bool = False,
    actor: User | None = None, actor_api_key: ApiKey | None = None,
) -> ListImportReport:
    """Add the entries of an uploaded file (`leads.cleansing.blacklist_file_parse` reads it;
    `kind` for lines that do not say theirs). All or nothing unless `skip_invalid`: raises
    ListImportRefused, with every refused line, and adds nothing."""
    if len(data) > MAX_LIST_FILE_BYTES:
        raise ListImportRefused(_("文件太大：最多 {limit} MB").format(limit=MAX_LIST_FILE_BYTES // 1_000_000))
    try:
        parsed = blacklist_file_parse(data, kind=kind or None, max_entries=MAX_FILE_ENTRIES)
    except ListEntryError as error:
        raise _decode_failure(error) from None
    _refuse_unless_usable(
        refused=parsed.errors, entry_count=len(parsed.entries), skip_invalid=skip_invalid, encoding=parsed.encoding,
        duplicate_count=parsed.duplicate_count,
    )
    note = " ".join(note.split())[:200]
    policy = _policy_locked(tenant=tenant)
    count = BlacklistEntry.objects.count()
    added = _insert_rows(
        _BLACKLIST_INSERT_SQL, tenant=tenant, actor=actor, note=note,
        rows=[{"kind": e.kind, "value": e.value, "original": (e.original or e.value)[:300]} for e in parsed.entries],
    )
    if count + added > MAX_BLACKLIST_ENTRIES:
        # The savepoint of this function rolls the insert back.
        raise ListImportRefused(_cap_message(limit=MAX_BLACKLIST_ENTRIES, count=count, adding=added), encoding=parsed.encoding)
    report = ListImportReport(
        encoding=parsed.encoding, added_count=added,
        duplicate_count=parsed.duplicate_count + len(parsed.entries) - added, refused=parsed.errors,
    )
    if added:
        _versions_bump(policy, blacklist=True)
    _audit(
        tenant=tenant, action="blacklist.import", object_type="blacklist", object_id=tenant.id,
        changes={"added": report.added_count, "duplicates": report.duplicate_count, "refused": len(report.refused),
                 "kind": kind or "", "note": note},
        actor=actor, actor_api_key=actor_api_key,
    )
    return report


def _refuse_unless_usable(
    *, refused: list[BlacklistFileError], entry_count: int, skip_invalid: bool, encoding: str, duplicate_count: int
) -> None:
    if refused and not skip_invalid:
        raise ListImportRefused(
            _("有 {count} 行无法导入，整个文件未导入。请按每行的提示修改后重新上传，或选择“跳过有问题的行”").format(count=len(refused)),
            refused=refused, encoding=encoding,
        )
    if not entry_count and not duplicate_count:
        raise ListImportRefused(
            _("文件里没有可导入的内容") if not refused else _("文件里没有一行可以导入"), refused=refused, encoding=encoding
        )


# --- sensitive words ----------------------------------------------------------------------------


def _category_checked(category: str) -> str:
    checked = sensitive_word_category(category or "custom")
    if checked is None:
        raise ValidationError({"category": [_("未知的分类“{category}”").format(category=category[:40])]})
    return checked


@transaction.atomic
def sensitive_word_add(
    *, tenant: Tenant, word: str, category: str = "custom", actor: User | None = None,
    actor_api_key: ApiKey | None = None,
) -> SensitiveWord:
    """Add one of the tenant's own words (category `allow`: an exception that cancels the hits
    inside it). ValidationError or CleansingEntryExists; nothing is written then."""
    category = _category_checked(category)
    try:
        normalised = sensitive_word_normalise(word)
    except ListEntryError as error:
        raise ValidationError({"word": [error.message]}) from None
    policy = _policy_locked(tenant=tenant)
    if (existing := SensitiveWord.objects.filter(word=normalised).first()) is not None:
        raise CleansingEntryExists(
            _("“{word}”已在敏感词表中（分类：{category}）").format(word=existing.original, category=existing.get_category_display()),
            existing=existing,
        )
    if (count := SensitiveWord.objects.count()) >= MAX_SENSITIVE_WORDS:
        raise ValidationError({"word": [_cap_message(limit=MAX_SENSITIVE_WORDS, count=count, adding=1)]})
    entry = SensitiveWord.objects.create(
        tenant=tenant, word=normalised, original=clean_text(word)[:200], category=category, created_by=actor
    )
    _versions_bump(policy, words=True)
    _audit(
        tenant=tenant, action="sensitive_word.add", object_type="sensitive_word", object_id=entry.id,
        changes={"word": normalised, "category": category}, actor=actor, actor_api_key=actor_api_key,
    )
    return entry


@transaction.atomic
def sensitive_word_delete(
    *, tenant: Tenant, word_id: int, actor: User | None = None, actor_api_key: ApiKey | None = None
) -> SensitiveWord:
    """Remove one of the tenant's words; SensitiveWord.DoesNotExist when it has no such word."""
    policy = _policy_locked(tenant=tenant)
    entry = SensitiveWord.objects.get(id=word_id)
    entry.delete()
    entry.id = word_id
    _versions_bump(policy, words=True)
    _audit(
        tenant=tenant, action="sensitive_word.delete", object_type="sensitive_word", object_id=word_id,
        changes={"word": entry.word, "category": entry.category}, actor=actor, actor_api_key=actor_api_key,
    )
    return entry


@transaction.atomic
def sensitive_word_import(
    *, tenant: Tenant, data: bytes, category: str = "custom", skip_invalid: bool = False,
    actor: User | None = None, actor_api_key: ApiKey | None = None,
) -> ListImportReport:
    """Add the words of an uploaded file (`leads.cleansing.sensitive_word_file_parse`), in one
    statement. All or nothing unless `skip_invalid`, as `blacklist_import`."""
    category = _category_checked(category)
    if len(data) > MAX_LIST_FILE_BYTES:
        raise ListImportRefused(_("文件太大：最多 {limit} MB").format(limit=MAX_LIST_FILE_BYTES // 1_000_000))
    try:
        parsed = sensitive_word_file_parse(data, category=category, max_entries=MAX_FILE_ENTRIES)
    except ListEntryError as error:
        raise _decode_failure(error) from None
    _refuse_unless_usable(
        refused=parsed.errors, entry_count=len(parsed.entries), skip_invalid=skip_invalid, encoding=parsed.encoding,
        duplicate_count=parsed.duplicate_count,
    )
    policy = _policy_locked(tenant=tenant)
    count = SensitiveWord.objects.count()
    added = _insert_rows(
        _WORD_INSERT_SQL, tenant=tenant, actor=actor,
        rows=[{"word": e.word, "original": e.original[:200], "category": e.category} for e in parsed.entries],
    )
    if count + added > MAX_SENSITIVE_WORDS:
        raise ListImportRefused(_cap_message(limit=MAX_SENSITIVE_WORDS, count=count, adding=added), encoding=parsed.encoding)
    report = ListImportReport(
        encoding=parsed.encoding, added_count=added,
        duplicate_count=parsed.duplicate_count + len(parsed.entries) - added, refused=parsed.errors,
    )
    if added:
        _versions_bump(policy, words=True)
    _audit(
        tenant=tenant, action="sensitive_word.import", object_type="sensitive_words", object_id=tenant.id,
        changes={"added": report.added_count, "duplicates": report.duplicate_count, "refused": len(report.refused),
                 "category": category},
        actor=actor, actor_api_key=actor_api_key,
    )
    return report


# --- policy -------------------------------------------------------------------------------------


@transaction.atomic
def cleansing_policy_update(
    *, tenant: Tenant, sensitive_action: str | None = None, use_builtin_words: bool | None = None,
    actor: User | None = None, actor_api_key: ApiKey | None = None,
) -> CleansingPolicy:
    """Change what a sensitive word does (`quarantine` | `flag`) and whether the built-in
    lexicon is used. Only what changes is written and audited."""
    if sensitive_action is not None and sensitive_action not in SensitiveAction.values:
        raise ValidationError({"sensitive_action": [_("请选择：{choices}").format(choices=", ".join(SensitiveAction.values))]})
    policy = _policy_locked(tenant=tenant)
    changes: dict[str, Any] = {}
    if sensitive_action is not None and sensitive_action != policy.sensitive_action:
        changes["sensitive_action"] = {"from": policy.sensitive_action, "to": sensitive_action}
        policy.sensitive_action = sensitive_action
    if use_builtin_words is not None and use_builtin_words != policy.use_builtin_words:
        changes["use_builtin_words"] = {"from": policy.use_builtin_words, "to": use_builtin_words}
        policy.use_builtin_words = use_builtin_words
    if not changes:
        return policy
    policy.save(update_fields=["sensitive_action", "use_builtin_words", "updated_at"])
    _versions_bump(policy, words="use_builtin_words" in changes)
    _audit(
        tenant=tenant, action="cleansing_policy.update", object_type="cleansing_policy", object_id=policy.id,
        changes=changes, actor=actor, actor_api_key=actor_api_key,
    )
    return policy
