"""Reading a tenant's cleansing rules: the lists for the pages and the API, and, for intake's
cleanse stage, the tenant's matchers.

`cleansing_rules_from_policy` is on the hot path of every submission: intake reads the policy
row (action, built-in switch, the two list versions) with its other configuration probes, in
one small query per batch (`POLICY_PROBE_SQL`, leads.intake.config), and nothing else while
the lists are unchanged. The entries and words are loaded only when this process has no
matcher for the version read (leads.cleansing's caches), i.e. once per process after a change.
A change committed before a batch starts applies to that batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet

from leads.cleansing import (
    ALLOW_CATEGORY,
    SENSITIVE_CATEGORIES,
    BlacklistMatcher,
    SensitiveWordMatcher,
    TenantWord,
    blacklist_matcher_for,
    builtin_sensitive_word_matcher,
    builtin_sensitive_words,
    sensitive_word_matcher_for,
)
from leads.models import BlacklistEntry, CleansingPolicy, SensitiveAction, SensitiveWord, SensitiveWordCategory

SENSITIVE_TAG = "敏感词"  # the tag of a lead let through with sensitive words (action "flag")

# Intake's configuration probe (leads.intake.config): the policy row as one text array.
POLICY_PROBE_SQL = (
    "SELECT ARRAY[sensitive_action, use_builtin_words::text, blacklist_version::text, words_version::text] "
    "FROM leads_cleansingpolicy WHERE tenant_id = %(tenant_id)s"
)


@dataclass(frozen=True)
class CleansingRules:
    """What the cleanse stage applies to a batch: None where there is nothing to match."""

    blacklist: BlacklistMatcher | None
    sensitive: SensitiveWordMatcher | None
    flag_sensitive: bool  # a hit tags the lead (SENSITIVE_TAG) rather than quarantining it


def _blacklist_entries() -> list[tuple[str, str]]:
    return list(BlacklistEntry.objects.values_list("kind", "value"))


def _tenant_words() -> list[TenantWord]:
    return list(SensitiveWord.objects.values_list("word", "category"))


def cleansing_rules_for_intake(*, tenant_id: int) -> CleansingRules:
    """The tenant's blacklist and sensitive-word matchers as of now (inside its `tenant_scope`)."""
    with connection.cursor() as cursor:
        cursor.execute(POLICY_PROBE_SQL, {"tenant_id": tenant_id})
        row = cursor.fetchone()
    return cleansing_rules_from_policy(tenant_id=tenant_id, policy=row[0] if row else None)


def cleansing_rules_from_policy(*, tenant_id: int, policy: list[str] | None) -> CleansingRules:
    """The matchers for the policy `POLICY_PROBE_SQL` read (inside the tenant's scope). A tenant
    without a policy row (None) has the defaults: built-in words, quarantine."""
    action: str
    if policy is None:
        action, use_builtin, blacklist_version, words_version = SensitiveAction.QUARANTINE.value, True, 0, 0
    else:
        action, use_builtin = policy[0], policy[1] == "true"
        blacklist_version, words_version = int(policy[2]), int(policy[3])
    blacklist = None
    if blacklist_version:  # 0: the tenant never had an entry
        matcher = blacklist_matcher_for(tenant_id=tenant_id, version=blacklist_version, load_entries=_blacklist_entries)
        blacklist = matcher if matcher.size else None
    sensitive: SensitiveWordMatcher | None
    if words_version:
        sensitive = sensitive_word_matcher_for(
            tenant_id=tenant_id, version=words_version, load_words=_tenant_words, include_builtin=use_builtin
        )
        if not sensitive.size:
            sensitive = None
    else:  # never changed: the built-in lexicon alone, shared by every such tenant
        sensitive = builtin_sensitive_word_matcher() if use_builtin else None
    return CleansingRules(blacklist=blacklist, sensitive=sensitive, flag_sensitive=action == SensitiveAction.FLAG)


# --- the pages and the API ----------------------------------------------------------------------


def cleansing_policy_get(*, tenant_id: int) -> CleansingPolicy:
    """The tenant's policy; an unsaved one with the defaults when it has none yet."""
    policy = CleansingPolicy.objects.filter(tenant_id=tenant_id).first()
    return policy if policy is not None else CleansingPolicy(tenant_id=tenant_id)


def blacklist_entry_list(*, kind: str = "", search: str = "") -> QuerySet[BlacklistEntry]:
    """Newest first; `search` finds the text in the entry as typed, as stored, or in its note."""
    entries = BlacklistEntry.objects.order_by("-created_at", "-id")
    if kind:
        entries = entries.filter(kind=kind)
    if search := search.strip():
        entries = entries.filter(Q(original__icontains=search) | Q(value__icontains=search) | Q(note__icontains=search))
    return entries


def sensitive_word_list(*, category: str = "", search: str = "") -> QuerySet[SensitiveWord]:
    words = SensitiveWord.objects.order_by("-created_at", "-id")
    if category:
        words = words.filter(category=category)
    if search := search.strip():
        words = words.filter(Q(original__icontains=search) | Q(word__icontains=search))
    return words


def blacklist_counts_by_kind() -> dict[str, int]:
    rows = BlacklistEntry.objects.order_by().values("kind").annotate(count=Count("id"))
    return {row["kind"]: row["count"] for row in rows}


def sensitive_word_count() -> int:
    return SensitiveWord.objects.count()


@dataclass(frozen=True)
class LexiconCategory:
    category: str
    label: str
    word_count: int


def builtin_lexicon_summary() -> list[LexiconCategory]:
    """The built-in lexicon's size per category (its `allow` exceptions last), for the page."""
    counts = Counter(word.category for word in builtin_sensitive_words())
    labels = dict(SensitiveWordCategory.choices)
    return [
        LexiconCategory(category=category, label=str(labels.get(category, category)), word_count=counts[category])
        for category in (*SENSITIVE_CATEGORIES, ALLOW_CATEGORY)
        if counts[category]
    ]
