"""How fast the duplicate search tool (查重, `leads.dedup_search.duplicate_search`) answers in a
large tenant, criterion by criterion, and which index each statement uses (dev tooling).

    DATABASE_URL=… python -m tools.dedup_search_bench [--tenant bench] [--queries 200] [--explain]

Uses a database that already holds a big tenant, e.g. the one `make bench` loads (1,000,000
leads in the tenant `bench`). Runs in-process, as a rep of that tenant (so the masking path is
included) and under row-level security, as the product does; times whole calls of the selector
(the queries and the Python that decides fuzzy companies) for criteria taken from random
existing leads, typed the ways people type them: a mobile with spaces, an e-mail in capitals, a
company by its brand, by brand and trade, in Traditional characters, a contact's name alone,
and company with name. `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of every statement of one
search per criterion.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dedup_search_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", default="bench", help="slug of the tenant to search (default: bench)")
    parser.add_argument("--queries", type=int, default=200, help="searches per criterion (default 200)")
    parser.add_argument("--explain", action="store_true", help="print the plans of one search per criterion")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings.local")
    os.environ.setdefault("DEBUG", "0")  # DEBUG keeps every query in memory and changes the timings
    import django

    django.setup()
    from django.core.exceptions import ValidationError
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from opencc_purepy import OpenCC

    from leadcrm.tenancy.models import Membership, Role, Tenant
    from leadcrm.tenancy.scoping import tenant_scope
    from leads.dedup_search import DuplicateSearchResult, duplicate_search
    from leads.matching import company_brand, company_core
    from leads.models import Lead

    tenant = Tenant.objects.filter(slug=args.tenant).first()
    if tenant is None:
        print(f"no tenant {args.tenant!r} in this database (load one with `make bench`)", file=sys.stderr)
        return 2
    rnd = random.Random(args.seed)
    to_traditional = OpenCC("s2t")
    with tenant_scope(tenant.id):
        rep = Membership.objects.filter(role=Role.REP).first()
        low, high = Lead.objects.order_by("id").values_list("id", flat=True).first(), Lead.objects.order_by(
            "-id"
        ).values_list("id", flat=True).first()
        if low is None or high is None:
            print("the tenant has no leads", file=sys.stderr)
            return 2
        total = Lead.objects.count()
        columns = ("id", "name", "company", "mobile", "email", "wechat")

        def sample(**filters: Any) -> list[Lead]:
            picked: list[Lead] = []
            while len(picked) < args.queries:
                start = rnd.randint(low, high)
                lead = Lead.objects.filter(id__gte=start, **filters).only(*columns).order_by("id").first()
                if lead is not None:
                    picked.append(lead)
            return picked

        with_mobile = sample(mobile__startswith="+86")
        with_email = sample(email__contains="@")
        with_wechat = sample(wechat__startswith="wx")
        with_company = sample(company__regex=r"[一-龥]{4,}")
        with_name = sample(name__regex=r"^[一-龥]{2,4}$")
        criteria: dict[str, tuple[list[Lead], Callable[[Lead], dict[str, Any]]]] = {
            "mobile (139 1234 5678)": (
                with_mobile, lambda lead: {"mobile": f"{lead.mobile[3:6]} {lead.mobile[6:10]} {lead.mobile[10:]}"}
            ),
            "e-mail (in capitals)": (with_email, lambda lead: {"email": lead.email.upper()}),
            "WeChat id": (with_wechat, lambda lead: {"wechat": lead.wechat}),
            "company: brand (纷扬)": (with_company, lambda lead: {"company": company_brand(lead.company)}),
            "company: brand + trade (纷扬科技)": (with_company, lambda lead: {"company": company_core(lead.company)}),
            "company: Traditional, full": (with_company, lambda lead: {"company": to_traditional.convert(lead.company)}),
            "name alone": (with_name, lambda lead: {"name": lead.name}),
            "company + name": (with_name, lambda lead: {"company": lead.company or "纷扬", "name": lead.name}),
        }

        print(f"tenant {tenant.slug}: {total:,} leads; {args.queries} searches per criterion, as a rep, under RLS")
        print(f"{'criterion':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'found':>7} {'capped':>7}")
        for label, (leads, make) in criteria.items():
            timings: list[float] = []
            found = capped = refused = 0
            for lead in leads:
                started = time.perf_counter()
                try:
                    result: DuplicateSearchResult = duplicate_search(membership=rep, **make(lead))
                except ValidationError:  # e.g. a company name with no recognisable brand: not timed
                    refused += 1
                    continue
                timings.append((time.perf_counter() - started) * 1000)
                found += any(match.lead.id == lead.id for match in result.matches) or result.more_count > 0
                capped += result.is_truncated
            if not timings:
                print(f"{label:<34} (every search refused)")
                continue
            print(
                f"{label:<34} {statistics.median(timings):8.1f} {_percentile(timings, 0.95):8.1f} {max(timings):8.1f} "
                f"{found / len(timings):7.0%} {capped / len(timings):7.0%}"
                + (f"  ({refused} refused)" if refused else "")
            )

        if args.explain:
            for label, (leads, make) in criteria.items():
                with CaptureQueriesContext(connection) as queries:
                    duplicate_search(membership=rep, **make(leads[0]))
                print(f"\n=== {label}: {make(leads[0])}")
                with connection.cursor() as cursor:
                    for query in queries:
                        if query["sql"].startswith("EXPLAIN") or "leads_lead" not in query["sql"]:
                            continue
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                        print("\n".join(row[0] for row in cursor.fetchall()))
                        print("---")
    return 0


if __name__ == "__main__":
    sys.exit(main())
