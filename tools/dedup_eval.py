"""Precision and recall of duplicate detection under the default rules of API.md (dev tooling).

    python -m tools.dedup_eval [--csv PATH] [--generated 3000] [--seed 7] [--errors] [--speed]

Each labelled pair (a, b) is judged with the default dedup rules, pure (no database, no API):
(1) same mobile, (2) same e-mail, each as intake normalises them, (3) same company (fuzzy,
`leads.matching.same_company`) and same contact name (`leads.matching.same_person`). The time
windows do not apply: a pair is two submissions close in time. It prints the confusion matrix,
precision and recall overall and per `kind`, for the shared `dedup_pairs.csv` (next to the
project folder: ../shared/data/) and for our own generated pairs (`tools.dedup_variants`), whose
names, companies and forms the shared file does not show. `--speed` times the keys intake
computes per lead (company parse + name key), uncached, in CPU time (other processes on the
machine do not inflate it).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from leads import matching
from leads.matching import alias_index, same_company, same_person
from leads.normalization import normalise_lead

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED_PAIRS = BASE_DIR.parent / "shared" / "data" / "dedup_pairs.csv"


@dataclass(frozen=True)
class Submission:
    name: str
    company: str
    mobile: str  # E.164 when usable, else ""
    email: str  # normalised when well-formed, else ""


def submission(*, name: str, company: str, mobile: str, email: str) -> Submission:
    """A side of a pair as intake would hold it: an invalid contact is quarantined, never matched."""
    result = normalise_lead({"name": name, "company": company, "mobile": mobile, "email": email})
    fields = result.fields
    return Submission(
        name=fields["name"], company=fields["company"],
        mobile="" if result.mobile_problem else fields["mobile"], email="" if result.email_problem else fields["email"],
    )


def matched_rule(a: Submission, b: Submission, *, aliases: Mapping[str, str] | None = None) -> str | None:
    """The first default rule under which b is a duplicate of a, or None."""
    if a.mobile and a.mobile == b.mobile:
        return "mobile"
    if a.email and a.email == b.email:
        return "email"
    if a.company and b.company and same_person(a.name, b.name) and same_company(a.company, b.company, aliases):
        return "company_name"
    return None


def is_duplicate(row: Mapping[str, str]) -> bool:
    sides = [
        submission(name=row[f"{s}_name"], company=row[f"{s}_company"], mobile=row[f"{s}_mobile"], email=row[f"{s}_email"])
        for s in ("a", "b")
    ]
    aliases = alias_index(json.loads(row["aliases"])) if row.get("aliases") else None
    return matched_rule(sides[0], sides[1], aliases=aliases) is not None


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: list[Mapping[str, str]] = field(default_factory=list)

    def add(self, *, truth: bool, predicted: bool, row: Mapping[str, str]) -> None:
        if truth and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
            self.errors.append(row)
        elif truth:
            self.fn += 1
            self.errors.append(row)
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(rows: Iterable[Mapping[str, str]]) -> tuple[Confusion, dict[str, Confusion]]:
    overall, by_kind = Confusion(), defaultdict[str, Confusion](Confusion)
    for row in rows:
        truth, predicted = row["same"] == "1", is_duplicate(row)
        overall.add(truth=truth, predicted=predicted, row=row)
        by_kind[row["kind"]].add(truth=truth, predicted=predicted, row=row)
    return overall, dict(by_kind)


def load_pairs(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def report(title: str, rows: list[dict[str, str]], *, show_errors: bool) -> Confusion:
    overall, by_kind = evaluate(rows)
    print(f"\n{title}: {len(rows)} pairs")
    print(f"  confusion: TP {overall.tp}  FP {overall.fp}  FN {overall.fn}  TN {overall.tn}")
    print(f"  precision {overall.precision:.4f}   recall {overall.recall:.4f}")
    print(f"  {'kind':<30} {'n':>5} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5}  precision  recall")
    for kind, c in sorted(by_kind.items()):
        n = c.tp + c.fp + c.fn + c.tn
        print(f"  {kind:<30} {n:>5} {c.tp:>5} {c.fp:>5} {c.fn:>5} {c.tn:>5}  {c.precision:9.4f}  {c.recall:6.4f}")
    if show_errors:
        for row in overall.errors:
            label = "FN" if row["same"] == "1" else "FP"
            print(f"  {label} {row['kind']}: {row['a_name']!r} {row['a_company']!r} | {row['b_name']!r} {row['b_company']!r}"
                  f" | {row['a_mobile']!r} {row['b_mobile']!r} | {row['a_email']!r} {row['b_email']!r}")
    return overall


def measure_speed(rows: list[dict[str, str]], *, rounds: int = 3) -> float:
    """Microseconds of CPU per (company, name) to parse and key, every one new to the caches
    (the best of `rounds`, each after clearing them)."""
    pairs = [(row[f"{side}_company"], row[f"{side}_name"]) for row in rows for side in ("a", "b")]
    best = float("inf")
    for _ in range(rounds):
        for cached in (matching.fold, matching.parse_company, matching.person_name_key):
            cached.cache_clear()
        distinct = list(dict.fromkeys(pairs))
        started = time.process_time()
        for company, name in distinct:
            matching.parse_company(company)
            matching.person_name_key(name)
        best = min(best, (time.process_time() - started) / len(distinct) * 1e6)
    return best


def main(argv: list[str] | None = None) -> int:
    from tools.dedup_variants import generate_pairs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SHARED_PAIRS, help="labelled pairs (default: the shared dedup_pairs.csv)")
    parser.add_argument("--generated", type=int, default=3000, help="how many generated pairs (0: none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--errors", action="store_true", help="print every misjudged pair")
    parser.add_argument("--speed", action="store_true", help="time the per-lead keys too")
    args = parser.parse_args(argv)
    ok = True
    if args.csv.exists():
        labelled = load_pairs(args.csv)
        overall = report(f"labelled pairs {args.csv.name}", labelled, show_errors=args.errors)
        ok &= overall.precision >= 0.98 and overall.recall >= 0.95
        if args.speed:
            print(f"  keys per lead (company + name), uncached: {measure_speed(labelled):.1f} µs CPU")
    else:
        print(f"{args.csv} not found: the shared data folder sits next to the project folder", file=sys.stderr)
    if args.generated:
        generated = generate_pairs(count=args.generated, seed=args.seed)
        overall = report(f"generated pairs (seed {args.seed})", generated, show_errors=args.errors)
        ok &= overall.precision >= 0.98 and overall.recall >= 0.95
        if args.speed:
            print(f"  keys per lead (company + name), uncached: {measure_speed(generated):.1f} µs CPU"
                  " (a third of these companies are in Traditional characters)")
    print("\ntargets (precision ≥ 0.98, recall ≥ 0.95):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
