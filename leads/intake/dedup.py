"""The dedup stage: who is already known. Takes the contact locks, upserts by (source, external
id), then applies the tenant's duplicate rules (leads.dedup_rules; a new tenant gets API.md's
defaults: same mobile or same e-mail within 180 days → collect (归集) into the source lead; same
company and contact name → a new lead tagged as a duplicate and routed to the existing owner).

For the whole batch, whatever the rules: one statement takes the contact locks, one deletes them
(see below) and ONE looks up every candidate of every active rule, all three prepared, then the rules are decided in
Python, first matching rule by position winning for each submission. Each submission is matched
once against what existed before it (and the leads created earlier in the same batch); no action
goes back through the rules, so rules can never loop.

The look-up anchors each rule on one index: the first field it compares by equality (mobile,
e-mail, WeChat, phone), else the company's brand ranges (`leads.matching.lookup_ranges`) with
the contact's name key. The rows are candidates; every condition of the rule is then checked on
them (the company by `same_company`, through the tenant's aliases), the oldest passing one wins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from psycopg.types.numeric import Int8

from leadcrm.db import fetch_prepared, joined_ints, model_build
from leads.dedup_rules import DUPLICATE_TAG, EXACT_FIELDS, DedupAction, DedupField, RuleSpec
from leads.fields import WRITABLE_FIELD_NAMES
from leads.intake.batch import IntakeBatch, IntakeItem, IntakeOutcome
from leads.intake.dedup_config import DedupSnapshot, dedup_snapshot_at
from leads.matching import brand_prefixes, same_company
from leads.models import Lead, LeadSubmission, OwnerChangeReason
from leads.normalization import match_keys, search_columns

# How many candidates a look-up returns per key: one is enough when the key is the whole rule
# (the oldest lead with this mobile); more when other conditions are checked on them.
_WHOLE_KEY_LIMIT = 1
_CHECKED_LIMIT = 20
_NAMED_RANGE_LIMIT = 10  # one brand and one contact name: more than ten companies is unheard of
_RANGE_LIMIT = 50

# Sorted keys are inserted in order, so two batches sharing contacts wait for each other
# without deadlocking. The rows are deleted at once, by the next statement: a transaction
# inserting the same key still waits until ours ends, because PostgreSQL's unique check waits
# on any tuple whose inserting transaction is in progress, deleted or not (a dirty snapshot
# does not look at xmax then). So the lock holds until commit or rollback and the table is
# empty between statements; tests/leads/test_concurrency.py proves both.
_CONTACT_LOCK_SQL = (
    "INSERT INTO leads_contactlock (tenant_id, key) "
    "SELECT %(tenant_id)s::bigint, k FROM unnest(string_to_array(%(lock_keys)s::text, ',')::bigint[]) AS k "
    "ON CONFLICT DO NOTHING"
)
# A join, one index probe per key: as `key = ANY(…)` the generic plan (prepared statements switch
# to it) scanned every lock row of the tenant and filtered the array, and a table that only
# autovacuum empties holds its dead rows (bench: 0.9 s a batch after 200k leads, against 8 ms).
_CONTACT_UNLOCK_SQL = (
    "DELETE FROM leads_contactlock AS c USING unnest(string_to_array(%(lock_keys)s::text, ',')::bigint[]) AS k(key) "
    "WHERE c.tenant_id = %(tenant_id)s::bigint AND c.key = k.key"
)

# One branch per (side, anchor) a batch needs; each row is a candidate for probe `p`. Written
# out rather than built with the ORM: intake runs it on every submission, and compiling the
# equivalent QuerySet cost more than PostgreSQL's work. Each branch repeats its partial index's
# predicate (x <> '') and keeps to the oldest few rows per key.
_CANDIDATE = (
    "k.p, x.side, x.id, x.customer_id, x.owner_id, x.created_at, x.mobile, x.email, x.wechat, x.phone, x.company, "
    "x.name_key, x.is_duplicate"
)
_LEAD_COLUMNS = (
    "'L' AS side, id, NULL::bigint AS customer_id, owner_id, created_at, mobile, email, wechat, phone, company, "
    "name_key, duplicate_of_id IS NOT NULL AS is_duplicate"
)
# Originals before their duplicates, then the oldest: a duplicate points at (and a submission is
# collected into) the lead the others are duplicates of, even when a racer that waited for the
# contact lock holds an earlier arrival time than the lead it waited for.
_LEAD_ORDER = "ORDER BY duplicate_of_id IS NOT NULL, created_at, id"
_CONTACT_COLUMNS = (
    "'C' AS side, c.id, c.customer_id, cu.owner_id, c.created_at, c.mobile, c.email, c.wechat, c.phone, "
    "cu.name AS company, c.name_key, false AS is_duplicate"
)
_EXACT_COLUMNS = ("p", "v", "nk", "since", "lim")
_RANGE_COLUMNS = ("p", "lo", "hi", "nk", "since", "lim")
_TYPES = {"p": "int", "since": "timestamptz", "lim": "int"}


def _keys(branch: str, columns: tuple[str, ...]) -> str:
    """The branch's key rows, `k`: one JSON object of arrays per branch, a column each, zipped
    (lists of strings are what encodes and decodes fastest, on both sides)."""
    arrays = ", ".join(f"jsonb_array_elements_text(%({branch})s::jsonb -> '{column}')" for column in columns)
    typed = ", ".join(f"r.{c}::{_TYPES[c]} AS {c}" if c in _TYPES else f"r.{c}" for c in columns)
    return f"(SELECT {typed} FROM ROWS FROM ({arrays}) AS r({', '.join(columns)})) AS k"


# A brand range comes as two look-ups: the brand itself, by equality, so that the btree seeks
# straight to (brand, name key); and the brands extending it, strictly after it (none, mostly).
_BRAND_MATCH = {
    "eq": "= (k.lo COLLATE \"C\")",
    "ext": "> (k.lo COLLATE \"C\") AND {column} <= (k.hi COLLATE \"C\")",
}


def _lead_exact_branch(column: str) -> str:
    return f"""
    SELECT {_CANDIDATE} FROM {_keys(f"lead_{column}", _EXACT_COLUMNS)} CROSS JOIN LATERAL (
        SELECT {_LEAD_COLUMNS} FROM leads_lead WHERE tenant_id = %(tenant_id)s AND {column} = k.v AND {column} <> ''
        AND created_at >= k.since AND (k.nk IS NULL OR name_key = k.nk) {_LEAD_ORDER} LIMIT k.lim) AS x"""


def _contact_exact_branch(column: str) -> str:
    return f"""
    SELECT {_CANDIDATE} FROM {_keys(f"contact_{column}", _EXACT_COLUMNS)} CROSS JOIN LATERAL (
        SELECT {_CONTACT_COLUMNS} FROM leads_contact c JOIN leads_customer cu ON cu.id = c.customer_id
        WHERE c.tenant_id = %(tenant_id)s AND c.{column} = k.v AND c.{column} <> '' AND c.created_at >= k.since
        AND (k.nk IS NULL OR c.name_key = k.nk) ORDER BY c.created_at, c.id LIMIT k.lim) AS x"""


def _company_branches(part: str) -> dict[str, str]:
    lead_brand = "company_brand " + _BRAND_MATCH[part].format(column="company_brand")
    customer_brand = "cu.company_brand " + _BRAND_MATCH[part].format(column="cu.company_brand")
    return {
        f"lead_company_name_{part}": f"""
    SELECT {_CANDIDATE} FROM {_keys(f"lead_company_name_{part}", _RANGE_COLUMNS)} CROSS JOIN LATERAL (
        SELECT {_LEAD_COLUMNS} FROM leads_lead WHERE tenant_id = %(tenant_id)s AND company_brand <> ''
        AND {lead_brand} AND name_key = k.nk AND created_at >= k.since {_LEAD_ORDER} LIMIT k.lim) AS x""",
        f"lead_company_{part}": f"""
    SELECT {_CANDIDATE} FROM {_keys(f"lead_company_{part}", _RANGE_COLUMNS)} CROSS JOIN LATERAL (
        SELECT {_LEAD_COLUMNS} FROM leads_lead WHERE tenant_id = %(tenant_id)s AND company_brand <> ''
        AND {lead_brand} AND created_at >= k.since {_LEAD_ORDER} LIMIT k.lim) AS x""",
        f"contact_company_name_{part}": f"""
    SELECT {_CANDIDATE} FROM {_keys(f"contact_company_name_{part}", _RANGE_COLUMNS)} CROSS JOIN LATERAL (
        SELECT {_CONTACT_COLUMNS} FROM leads_customer cu
        JOIN leads_contact c ON c.tenant_id = cu.tenant_id AND c.customer_id = cu.id
        WHERE cu.tenant_id = %(tenant_id)s AND cu.company_brand <> '' AND {customer_brand}
        AND c.name_key = k.nk AND c.created_at >= k.since ORDER BY c.created_at, c.id LIMIT k.lim) AS x""",
        # A company-only rule comparing contacts matches the customer itself, contacts or not.
        f"contact_company_{part}": f"""
    SELECT {_CANDIDATE} FROM {_keys(f"contact_company_{part}", _RANGE_COLUMNS)} CROSS JOIN LATERAL (
        SELECT 'U' AS side, NULL::bigint AS id, cu.id AS customer_id, cu.owner_id, cu.created_at, '' AS mobile,
        '' AS email, '' AS wechat, '' AS phone, cu.name AS company, '' AS name_key, false AS is_duplicate
        FROM leads_customer cu
        WHERE cu.tenant_id = %(tenant_id)s AND cu.company_brand <> '' AND {customer_brand}
        AND cu.created_at >= k.since ORDER BY cu.created_at, cu.id LIMIT k.lim) AS x""",
    }


_BRANCHES: dict[str, str] = {
    **{f"lead_{column}": _lead_exact_branch(column) for column in EXACT_FIELDS},
    **{f"contact_{column}": _contact_exact_branch(column) for column in EXACT_FIELDS},
    **_company_branches("eq"),
    **_company_branches("ext"),
}
_ANY_TIME = "-infinity"

# A candidate lead's columns, in the model's field order (`Model.from_db` wants it).
_STUB_ATTNAMES = ("id", "tenant_id", "mobile", "phone", "email", "wechat", "company", "name_key", "owner_id", "created_at")
_STUB_FIELDS = [f.attname for f in Lead._meta.concrete_fields if f.attname in _STUB_ATTNAMES]

# What update_and_reown overwrites on the existing record with the submission's non-empty values.
REOWN_LEAD_FIELDS = ("name", "title", "company", "mobile", "phone", "email", "wechat")
REOWN_CONTACT_FIELDS = ("name", "mobile", "phone", "email", "wechat")


def contact_lock_keys(keys: set[str]) -> list[int]:
    """The `ContactLock` keys (64-bit hashes; the rows carry the tenant) that serialise
    concurrent intake of the same contact or external id, so two racing submissions cannot
    both create a lead. Sorted: taken in one order by everyone, they cannot deadlock."""
    return sorted(
        int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True) for key in keys
    )


def _revenue(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def lead_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The lead row's submitted columns from normalised fields."""
    values = {name: fields.get(name, "") for name in WRITABLE_FIELD_NAMES}
    values["annual_revenue"] = _revenue(fields.get("annual_revenue"))
    values["custom"] = fields.get("custom") or {}
    return values


# --- candidates ---------------------------------------------------------------------------------


@dataclass
class Candidate:
    """An existing record a rule may match: a lead, a customer's contact, or (company-only rules
    comparing contacts) a customer."""

    side: str  # "L" lead, "C" contact, "U" customer
    id: int | None  # the lead's or the contact's; None for a customer, or a lead of this batch
    customer_id: int | None
    owner_id: int | None  # the lead's owner; for contacts and customers, the customer's owner
    created_at: datetime
    mobile: str
    email: str
    wechat: str
    phone: str
    company: str
    name_key: str
    is_duplicate: bool = False  # a lead linked to another as its duplicate
    lead: Lead | None = None  # a lead's stub from the look-up, or the lead made earlier in this batch

    @classmethod
    def of_lead(cls, lead: Lead) -> Candidate:
        """A lead made earlier in this batch (its `duplicate_of` may not have an id yet)."""
        return cls(
            side="L", id=lead.pk, customer_id=None, owner_id=lead.owner_id, created_at=lead.created_at,
            mobile=lead.mobile, email=lead.email, wechat=lead.wechat, phone=lead.phone, company=lead.company,
            name_key=lead.name_key, is_duplicate=lead.duplicate_of_id is not None or lead.duplicate_of is not None,
            lead=lead,
        )

    @property
    def order(self) -> tuple[bool, datetime, int]:
        return self.is_duplicate, self.created_at, self.id or 0


@dataclass
class _Match:
    rule: RuleSpec
    lead: Candidate | None
    contact: Candidate | None  # a contact or a customer

    @property
    def owner_id(self) -> int | None:
        """Whose the duplicate is: a customer's owner outranks a lead's."""
        if self.contact is not None and self.contact.owner_id:
            return self.contact.owner_id
        return self.lead.owner_id if self.lead is not None else None


class _ItemKeys:
    """What the rules compare of one submission, computed once."""

    __slots__ = ("brands", "company", "name_key", "ranges", "values")

    def __init__(self, *, values: dict[str, Any], company: str, ranges: list[tuple[str, str]], brands: list[str]) -> None:
        self.values = values  # the normalised fields: mobile, email, wechat, phone among them
        self.name_key: str = values["name_key"]
        self.company = company
        self.ranges = ranges  # leads.matching.lookup_ranges, through the aliases
        self.brands = brands  # leads.matching.lookup_brands, through the aliases


@dataclass(frozen=True)
class _Rule:
    """A rule compiled for one batch: what its look-up anchors on, and from when."""

    index: int
    spec: RuleSpec
    exact: tuple[str, ...]  # its equality conditions, the anchor first
    with_name: bool
    with_company: bool
    sides: tuple[str, ...]  # "lead", "contact"
    compares_leads: bool
    compares_contacts: bool
    branches: tuple[str, ...]  # of the look-up statement
    limit: int
    since: str

    @classmethod
    def of(cls, index: int, spec: RuleSpec, *, now: datetime) -> _Rule:
        exact = spec.exact_conditions
        conditions = set(spec.conditions)
        whole_key = bool(exact) and conditions <= {exact[0], DedupField.NAME}
        sides = tuple(side for side, wanted in (("lead", spec.compares_leads), ("contact", spec.compares_contacts)) if wanted)
        company = "company_name" if DedupField.NAME in conditions else "company"
        branches = (
            tuple(f"{side}_{exact[0]}" for side in sides) if exact
            else tuple(f"{side}_{company}_{part}" for side in sides for part in ("eq", "ext"))
        )
        return cls(
            index=index, spec=spec, exact=exact, with_name=DedupField.NAME in conditions,
            with_company=DedupField.COMPANY in conditions, sides=sides, branches=branches,
            compares_leads=spec.compares_leads, compares_contacts=spec.compares_contacts,
            limit=(
                _WHOLE_KEY_LIMIT if whole_key else _CHECKED_LIMIT if exact
                else _NAMED_RANGE_LIMIT if DedupField.NAME in conditions else _RANGE_LIMIT
            ),
            since=_ANY_TIME if spec.window_days is None else (now - timedelta(days=spec.window_days)).isoformat(),
        )


class _Probes:
    """The look-up's key rows, column by column for each branch, and which (item, rule) asked
    for which."""

    def __init__(self) -> None:
        self.columns: dict[str, dict[str, list[Any]]] = {}
        self.count = 0
        self.wanted: dict[tuple[int, int], list[int]] = {}  # (item index, rule index) -> probe ids

    def columns_of(self, branch: str) -> dict[str, list[Any]]:
        if (columns := self.columns.get(branch)) is None:
            names = _RANGE_COLUMNS if "company" in branch else _EXACT_COLUMNS
            columns = self.columns[branch] = {name: [] for name in names}
        return columns

    def add(self, wanted: list[int], branch: str, values: tuple[Any, ...]) -> None:
        """One key row of `branch`: its columns but `p` (_EXACT_COLUMNS or _RANGE_COLUMNS)."""
        columns = self.columns_of(branch)
        probe = self.count
        self.count += 1
        column_lists = iter(columns.values())
        next(column_lists).append(probe)
        for column, value in zip(column_lists, values, strict=True):
            column.append(value)
        wanted.append(probe)


_NO_RANGES: list[tuple[str, str]] = []
_NO_LEADS: list[Lead] = []
_NO_BRANDS: list[str] = []


def _item_keys(item: IntakeItem, snapshot: DedupSnapshot, *, compares_company: bool) -> _ItemKeys:
    fields = item.fields
    company = fields["company"]
    if compares_company and (fields["company_brand"] or (company and snapshot.aliases)):
        ranges, brands = snapshot.company_lookup(company)
    else:
        ranges, brands = _NO_RANGES, _NO_BRANDS
    return _ItemKeys(values=fields, company=company, ranges=ranges, brands=brands)


def rule_probes(probes: _Probes, *, rule: _Rule, keys: dict[int, _ItemKeys]) -> None:
    """The key rows `rule` needs for each submission (by item index); none for a submission
    whose value of a condition is empty (an empty value never matches)."""
    exact, with_name, with_company = rule.exact, rule.with_name, rule.with_company
    since, limit, index, wanted_by = rule.since, rule.limit, rule.index, probes.wanted
    exact_columns = [probes.columns_of(branch) for branch in rule.branches] if exact else []
    for item, item_keys in keys.items():
        values = item_keys.values
        if exact and not all(values[name] for name in exact):
            continue
        if (with_name and not item_keys.name_key) or (with_company and not item_keys.ranges):
            continue
        name_key = item_keys.name_key if with_name else None
        wanted = wanted_by[(item, index)] = []
        if exact:
            value = values[exact[0]]
            for columns in exact_columns:
                wanted.append(probes.count)
                columns["p"].append(probes.count)
                columns["v"].append(value)
                columns["nk"].append(name_key)
                columns["since"].append(since)
                columns["lim"].append(limit)
                probes.count += 1
            continue
        for branch in rule.branches:
            extending = branch.endswith("_ext")
            for low, high in item_keys.ranges:
                if not extending:
                    probes.add(wanted, branch, (low, low, name_key, since, limit))
                elif high != low:
                    probes.add(wanted, branch, (low, high, name_key, since, limit))


def _lock_and_look_up(*, tenant_id: int, lock_keys: list[int], probes: _Probes) -> dict[int, list[Candidate]]:
    """Take the contact locks, then look up every probe; candidates by probe id, oldest first.
    Three statements for the whole batch, prepared (the look-up's plan cost five times its
    execution). The look-up is a separate statement, so (READ COMMITTED) it sees every
    record committed by whoever held one of the keys before us."""
    branches = [name for name in _BRANCHES if name in probes.columns]
    look_up = " UNION ALL ".join(_BRANCHES[name] for name in branches)
    # Lists travel as one JSON (or comma-separated) string each: a handful of parameters per
    # branch whatever the batch size, so one prepared statement serves every batch.
    params: dict[str, Any] = {"lock_keys": joined_ints(lock_keys), "tenant_id": Int8(tenant_id)}
    for name in branches:
        params[name] = json.dumps(probes.columns[name], ensure_ascii=False)
    statements = [(_CONTACT_LOCK_SQL, params), (_CONTACT_UNLOCK_SQL, params)] if lock_keys else []
    if look_up:
        statements.append((look_up, params))
    if not statements:
        return {}
    rows = fetch_prepared(statements)
    if not look_up:
        return {}
    by_probe: dict[int, list[Candidate]] = {}
    stubs: dict[int, Lead] = {}
    for probe, side, record_id, customer_id, owner_id, created_at, mobile, email, wechat, phone, company, name_key, \
            is_duplicate in rows:
        candidate = Candidate(
            side=side, id=record_id, customer_id=customer_id, owner_id=owner_id, created_at=created_at, mobile=mobile,
            email=email, wechat=wechat, phone=phone, company=company, name_key=name_key, is_duplicate=is_duplicate,
        )
        if side == "L":
            if (stub := stubs.get(record_id)) is None:
                values = {"id": record_id, "tenant_id": tenant_id, "mobile": mobile, "phone": phone, "email": email,
                          "wechat": wechat, "company": company, "name_key": name_key, "owner_id": owner_id,
                          "created_at": created_at}
                stub = stubs[record_id] = Lead.from_db(connection.alias, _STUB_FIELDS, [values[f] for f in _STUB_FIELDS])
            candidate.lead = stub
        by_probe.setdefault(probe, []).append(candidate)
    return by_probe


# --- the rules ----------------------------------------------------------------------------------


def _satisfies(rule: RuleSpec, keys: _ItemKeys, candidate: Candidate, aliases: dict[str, str]) -> bool:
    for condition in rule.conditions:
        if condition == DedupField.NAME:
            if not keys.name_key or candidate.name_key != keys.name_key:
                return False
        elif condition == DedupField.COMPANY:
            if not candidate.company or not same_company(keys.company, candidate.company, aliases):
                return False
        elif not keys.values[condition] or getattr(candidate, condition) != keys.values[condition]:
            return False
    return True


class _BatchIndex:
    """The leads created earlier in this batch, found as the look-up finds stored ones (indexed
    only by what the rules anchor on)."""

    def __init__(self, rules: list[_Rule]) -> None:
        anchors = {rule.exact[0] for rule in rules if rule.exact and "lead" in rule.sides}
        self.exact: dict[str, dict[str, list[Lead]]] = {name: {} for name in anchors}
        self.with_name = any(not rule.exact and rule.with_name and "lead" in rule.sides for rule in rules)
        self.with_brand = any(not rule.exact and not rule.with_name and "lead" in rule.sides for rule in rules)
        self.by_name: dict[str, list[Lead]] = {}
        self.by_brand: dict[str, list[Lead]] = {}  # under its brand and each brand it extends

    def add(self, lead: Lead) -> None:
        for name, index in self.exact.items():
            if value := getattr(lead, name):
                index.setdefault(value, []).append(lead)
        if self.with_name and lead.name_key:
            self.by_name.setdefault(lead.name_key, []).append(lead)
        if self.with_brand and lead.company_brand:
            for brand in {*brand_prefixes(lead.company_brand), lead.company_brand}:
                self.by_brand.setdefault(brand, []).append(lead)

    def candidates(self, rule: _Rule, keys: _ItemKeys) -> list[Lead]:
        if rule.exact:
            return self.exact[rule.exact[0]].get(keys.values[rule.exact[0]], [])
        if rule.with_name:
            return self.by_name.get(keys.name_key, [])
        found: dict[int, Lead] = {}
        for brand in keys.brands:
            for key in (brand, *brand_prefixes(brand)):
                found.update((id(lead), lead) for lead in self.by_brand.get(key, ()))
        return list(found.values())


def _first(candidates: Iterable[Candidate], rule: RuleSpec, keys: _ItemKeys, aliases: dict[str, str]) -> Candidate | None:
    return next((c for c in candidates if _satisfies(rule, keys, c, aliases)), None)


def _match(
    *, item_index: int, keys: _ItemKeys, rules: list[_Rule], aliases: dict[str, str], probes: _Probes,
    found: dict[int, list[Candidate]], in_batch: _BatchIndex,
) -> _Match | None:
    """The first rule, by position, that matches the submission, with what it matched."""
    wanted_by = probes.wanted
    for rule in rules:
        wanted = wanted_by.get((item_index, rule.index))
        if wanted is None:
            continue  # a condition's value is empty: the rule cannot match
        stored: list[Candidate] = []
        for probe in wanted:
            if probe in found:
                stored += found[probe]
        batch_leads = in_batch.candidates(rule, keys) if rule.compares_leads else _NO_LEADS
        if not stored and not batch_leads:
            continue
        if len(stored) > 1:
            stored.sort(key=lambda c: c.order)
        spec = rule.spec
        lead = contact = None
        if rule.compares_leads:
            lead_candidates = [c for c in stored if c.side == "L"]
            if batch_leads:
                lead_candidates = sorted(lead_candidates + [Candidate.of_lead(lead) for lead in batch_leads],
                                         key=lambda c: c.order)
            lead = _first(lead_candidates, spec, keys, aliases)
        if rule.compares_contacts:
            contact = _first((c for c in stored if c.side != "L"), spec, keys, aliases)
        if lead is not None or contact is not None:
            return _Match(rule=spec, lead=lead, contact=contact)
    return None


# --- the stage ----------------------------------------------------------------------------------


@dataclass
class _PendingUpdate:
    item: IntakeItem
    match: _Match
    lead: Lead  # a stub from the look-up, or a lead created earlier in this batch


def dedup(batch: IntakeBatch) -> None:
    items = batch.open_items()
    tenant_id = batch.tenant.id
    snapshot = (
        dedup_snapshot_at(tenant_id=tenant_id, version=batch.config.get("leads.dedup") or 0)
        if items else DedupSnapshot(version=0, rules=(), aliases={})
    )
    compares_company = snapshot.compares_company
    keys = {item.index: _item_keys(item, snapshot, compares_company=compares_company) for item in items}

    lock_keys: set[str] = set()
    exact_fields = snapshot.exact_fields
    with_company = any(DedupField.COMPANY in r.conditions and DedupField.NAME not in r.conditions for r in snapshot.rules)
    with_company_name = any({DedupField.COMPANY, DedupField.NAME} <= set(r.conditions) for r in snapshot.rules)
    for item in items:
        fields, item_keys = item.fields, keys[item.index]
        if fields["external_id"]:
            lock_keys.add(f"ext:{fields['source']}:{fields['external_id']}")
        lock_keys.update(f"{name}:{value}" for name in exact_fields if (value := item_keys.values[name]))
        if item_keys.brands:  # the brand the company resolves to: racing spellings of it meet here
            if with_company:
                lock_keys.add(f"company:{item_keys.brands[0]}")
            if with_company_name and item_keys.name_key:
                lock_keys.add(f"company_name:{item_keys.brands[0]}\x1f{item_keys.name_key}")
    batch.lock_keys = contact_lock_keys(lock_keys)

    rules = [_Rule.of(index, spec, now=batch.now) for index, spec in enumerate(snapshot.rules)]
    probes = _Probes()
    for rule in rules:
        rule_probes(probes, rule=rule, keys=keys)
    found = _lock_and_look_up(tenant_id=tenant_id, lock_keys=batch.lock_keys, probes=probes)

    # upsert by (source, external_id)
    external_keys = {(i.fields["source"], i.fields["external_id"]) for i in items if i.fields["external_id"]}
    by_external: dict[tuple[str, str], Lead] = {}
    if external_keys:
        same_external_id = Lead.objects.filter(external_id__in={ext for _, ext in external_keys})
        by_external = {
            (lead.source, lead.external_id): lead for lead in same_external_id if (lead.source, lead.external_id) in external_keys
        }

    in_batch = _BatchIndex(rules)
    pending: list[_PendingUpdate] = []
    for item in items:
        fields = item.fields
        existing = by_external.get((fields["source"], fields["external_id"])) if fields["external_id"] else None
        if existing is not None:
            _update_existing(batch, item, existing)
            continue
        match = _match(item_index=item.index, keys=keys[item.index], rules=rules, aliases=snapshot.aliases,
                       probes=probes, found=found, in_batch=in_batch)
        action = match.rule.action if match else ""
        if match and action == DedupAction.COLLECT and match.lead is not None and match.lead.lead is not None:
            _collect(batch, item, match, match.lead.lead)
            continue
        if match and action == DedupAction.UPDATE_AND_REOWN and match.lead is not None and match.lead.lead is not None:
            pending.append(_PendingUpdate(item=item, match=match, lead=match.lead.lead))
            continue
        lead = _new_lead(batch, item)
        if match is None:
            item.outcome = IntakeOutcome(outcome="created", lead=lead)
        else:
            _link_duplicate(batch, item, lead, match)
        in_batch.add(lead)  # later items of the same batch meet this one
        if fields["external_id"]:  # a later item with this key updates this lead, as a later call would
            by_external[(fields["source"], fields["external_id"])] = lead
        batch.to_create.append(lead)
    if pending:
        _apply_updates(batch, pending)


def _collect(batch: IntakeBatch, item: IntakeItem, match: _Match, source: Lead) -> None:
    """归集: no new lead; the submission is kept on the source lead."""
    batch.submissions.append(
        LeadSubmission(
            tenant=batch.tenant, lead=source, channel=batch.channel, payload=item.raw, rule=match.rule.name,
            dedup_rule_id=match.rule.id, created_at=item.at, updated_at=item.at,
        )
    )
    item.outcome = IntakeOutcome(outcome="merged", lead=source, rule=match.rule.name, rule_id=match.rule.id,
                                 action=match.rule.action)


def _link_duplicate(batch: IntakeBatch, item: IntakeItem, lead: Lead, match: _Match) -> None:
    """A new lead linked to what it duplicates and tagged; its owner by the rule's action:
    route_to_owner → the existing record's owner (a customer's owner outranks a lead's; none:
    like assign); assign and tag → none, left to the normal assignment; update_and_reown with
    only a customer's contact matched → the customer's owner, the contact updated."""
    rule = match.rule
    if match.lead is not None and match.lead.lead is not None:
        lead.duplicate_of = match.lead.lead
    if match.contact is not None:
        lead.duplicate_customer_id = match.contact.customer_id
    lead.duplicate_rule_id = rule.id
    if DUPLICATE_TAG not in lead.tags:
        lead.tags = [*lead.tags, DUPLICATE_TAG]
    owner_id: int | None = None
    reason = OwnerChangeReason.DUPLICATE_OF
    if rule.action in (DedupAction.ROUTE_TO_OWNER, DedupAction.UPDATE_AND_REOWN):
        owner_id = match.owner_id
        if match.contact is not None and match.contact.owner_id:
            reason = OwnerChangeReason.CUSTOMER_OWNER
    if rule.action == DedupAction.UPDATE_AND_REOWN and match.contact is not None and match.contact.id is not None:
        changes = {name: item.fields[name] for name in REOWN_CONTACT_FIELDS if item.fields[name]}
        if "name" in changes:
            changes["name_key"] = item.fields["name_key"]
        if changes:
            batch.contact_updates.append({"id": match.contact.id, **changes, "at": item.at})
    if owner_id:
        lead.owner_id = owner_id
        lead.owner_assigned_at = item.at
        batch.owner_changes.append((lead, {"from": None, "to": owner_id, "reason": reason}, item.at))
    item.outcome = IntakeOutcome(
        outcome="created", lead=lead, rule=rule.name, rule_id=rule.id, action=rule.action,
        customer_id=match.contact.customer_id if match.contact is not None else None,
    )


def _apply_updates(batch: IntakeBatch, pending: list[_PendingUpdate]) -> None:
    """update_and_reown on an existing lead: the submission's non-empty REOWN_LEAD_FIELDS
    overwrite the lead's (its keys and search columns follow), the submission is kept on the
    lead, and when a customer's contact matched too, the lead goes to the customer's owner and
    its previous owner is told. Loaded whole in one query: the look-up has a few columns."""
    stored = Lead.objects.in_bulk([p.lead.pk for p in pending if p.lead.pk is not None])
    stored.update({lead.pk: lead for lead in batch.to_update})  # one instance per row: an upsert may hold it
    for update in pending:
        item, match = update.item, update.match
        lead = stored.get(update.lead.pk) if update.lead.pk is not None else update.lead
        if lead is None:  # gone since the look-up (it cannot be: its contacts are locked)
            continue
        for name in REOWN_LEAD_FIELDS:
            if value := item.fields[name]:
                setattr(lead, name, value)
        for name, value in {**match_keys(lead.__dict__), **search_columns(lead.__dict__)}.items():
            setattr(lead, name, value)
        customer_owner = match.contact.owner_id if match.contact is not None else None
        previous = lead.owner_id
        if customer_owner and customer_owner != previous:
            lead.owner_id = customer_owner
            lead.owner_assigned_at = item.at
            batch.owner_changes.append(
                (lead, {"from": previous, "to": customer_owner, "reason": OwnerChangeReason.CUSTOMER_OWNER}, item.at)
            )
            if previous:
                batch.reown_notices.append((lead, previous, customer_owner, match.rule))
        batch.submissions.append(
            LeadSubmission(
                tenant=batch.tenant, lead=lead, channel=batch.channel, payload=item.raw, rule=match.rule.name,
                dedup_rule_id=match.rule.id, created_at=item.at, updated_at=item.at,
            )
        )
        if lead.pk is not None and lead not in batch.to_update:
            batch.to_update.append(lead)
        item.outcome = IntakeOutcome(
            outcome="updated", lead=lead, rule=match.rule.name, rule_id=match.rule.id, action=match.rule.action,
            customer_id=match.contact.customer_id if match.contact is not None else None,
        )


def _new_lead(batch: IntakeBatch, item: IntakeItem) -> Lead:
    fields = item.fields
    values = lead_values(fields)
    values.update(
        tenant_id=batch.tenant.id, created_by_id=batch.actor_id, created_at=item.at, updated_at=item.at,
        **search_columns(fields),
    )
    if item.tags:
        values["tags"] = list(item.tags)
    return model_build(Lead, values)


def _update_existing(batch: IntakeBatch, item: IntakeItem, existing: Lead) -> None:
    """The fields the submission names overwrite the lead's (an integrator's upsert)."""
    fields = item.fields
    values = lead_values(fields)
    provided = {name for name in item.raw if name in WRITABLE_FIELD_NAMES}
    for name in provided:
        setattr(existing, name, values[name])
    if "mobile" in provided and not {"province", "city"} & provided and not existing.province:
        existing.province, existing.city = fields["province"], fields["city"]
    for name, value in {**match_keys(existing.__dict__), **search_columns(existing.__dict__)}.items():
        setattr(existing, name, value)
    if existing.pk is not None and existing not in batch.to_update:
        batch.to_update.append(existing)
    # else created earlier in this batch: it is inserted with these changes
    item.outcome = IntakeOutcome(outcome="updated", lead=existing)
