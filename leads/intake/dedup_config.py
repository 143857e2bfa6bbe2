"""A tenant's duplicate rules and company aliases as intake applies them, cached per process.

Intake reads the tenant's `DedupConfig.version` once per batch (with its other configuration
probes, leads.intake.config) and keeps, per
(tenant, version), the active rules in position order and the alias index built from the
aliases. Every change to rules or aliases bumps the version in its own transaction
(`leads.dedup_services`), so the next batch anywhere sees it. On a miss the rules and aliases
are loaded with the version they belong to.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection

from leads.dedup_rules import DedupField, RuleSpec
from leads.matching import alias_index, lookup_brands, lookup_ranges
from leads.models import CompanyAlias, DedupConfig, DedupRule

# Intake's configuration probe (leads.intake.config).
VERSION_PROBE_SQL = "SELECT version FROM leads_dedupconfig WHERE tenant_id = %(tenant_id)s"
_MAX_TENANTS = 4096
_MAX_COMPANIES = 20_000  # company look-up keys kept per tenant and version


@dataclass(frozen=True)
class DedupSnapshot:
    version: int
    rules: tuple[RuleSpec, ...]  # the active ones, in position order
    aliases: dict[str, str]  # leads.matching.alias_index of the tenant's aliases
    # company -> (lookup_ranges, lookup_brands) through these aliases: the same companies come
    # back batch after batch
    _companies: dict[str, tuple[list[tuple[str, str]], list[str]]] = field(default_factory=dict, compare=False)

    def company_lookup(self, company: str) -> tuple[list[tuple[str, str]], list[str]]:
        """The brand ranges a look-up for `company` searches, and its brands (the first is the
        one it resolves to), through the tenant's aliases."""
        if not self.aliases:
            return _company_lookup(company)  # shared by every tenant without aliases
        if (cached := self._companies.get(company)) is not None:
            return cached
        found = (lookup_ranges(company, self.aliases), lookup_brands(company, self.aliases))
        if len(self._companies) >= _MAX_COMPANIES:
            self._companies.clear()
        self._companies[company] = found
        return found


    @property
    def exact_fields(self) -> frozenset[str]:
        """Fields some rule compares by equality: intake locks each submission's values of them."""
        return frozenset(field for rule in self.rules for field in rule.exact_conditions)

    @property
    def compares_company(self) -> bool:
        return any(DedupField.COMPANY in rule.conditions for rule in self.rules)


@lru_cache(maxsize=131_072)
def _company_lookup(company: str) -> tuple[list[tuple[str, str]], list[str]]:
    """`DedupSnapshot.company_lookup` without aliases (lists: callers must not change them)."""
    return lookup_ranges(company), lookup_brands(company)


_EMPTY = DedupSnapshot(version=0, rules=(), aliases={})
_cache: OrderedDict[int, DedupSnapshot] = OrderedDict()
_lock = threading.Lock()


def _load(tenant_id: int) -> DedupSnapshot:
    config = DedupConfig.objects.filter(tenant_id=tenant_id).values_list("version", flat=True).first()
    if config is None:
        return _EMPTY  # no configuration yet: no rules (the tenant's defaults install one)
    rules = tuple(
        RuleSpec(
            id=rule.id, position=rule.position, name=rule.name, conditions=tuple(rule.conditions),
            compare_with=rule.compare_with, window_days=rule.window_days, action=rule.action, is_active=rule.is_active,
        )
        for rule in DedupRule.objects.filter(tenant_id=tenant_id, is_active=True).order_by("position", "id")
    )
    aliases = dict(CompanyAlias.objects.filter(tenant_id=tenant_id).values_list("alias", "company"))
    return DedupSnapshot(version=config, rules=rules, aliases=alias_index(aliases))


def dedup_snapshot(*, tenant_id: int) -> DedupSnapshot:
    """The tenant's rules and aliases as of now (inside its tenant scope)."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_PROBE_SQL, {"tenant_id": tenant_id})
        row = cursor.fetchone()
    return dedup_snapshot_at(tenant_id=tenant_id, version=row[0] if row else 0)


def dedup_snapshot_at(*, tenant_id: int, version: int) -> DedupSnapshot:
    """The tenant's rules and aliases of `version` (read by the caller), from the cache."""
    with _lock:
        cached = _cache.get(tenant_id)
        if cached is not None and cached.version == version:
            _cache.move_to_end(tenant_id)
            return cached
    # Loaded outside the lock: two threads may both load a new version, and both are right.
    snapshot = _load(tenant_id)
    with _lock:
        _cache[tenant_id] = snapshot
        _cache.move_to_end(tenant_id)
        while len(_cache) > _MAX_TENANTS:
            _cache.popitem(last=False)
    return snapshot


def dedup_snapshot_cache_clear() -> None:
    with _lock:
        _cache.clear()
