"""`make bench`: LeadCRM's performance figures, each beside a baseline measured in the same run.

    python -m tools.bench [--duration 20] [--fresh] [--leads 1000000] [--only post,bulk,...]

What it does, all against a dedicated database (`leadcrm_bench`, reused when it already holds
the leads so reruns are fast; `--fresh` drops it):

1. `migrate` as the owner (a subprocess with DB_RUN_AS_OWNER=1), then a bench tenant with an
   API key, a few reps and a browser session (a Django subprocess: this process never imports
   Django, so the caller's settings cannot leak in).
2. Loads the leads with `COPY` (secondary indexes dropped and rebuilt in the same transaction,
   so an interrupted load leaves nothing half done), then `ANALYZE`.
3. Starts gunicorn on loopback (DEBUG off, persistent DB connections, the app role with RLS,
   rate limit raised so it never 429s) and drives it with `wrk` (installed with apt when
   missing and allowed) or, as a fallback, Python threads on keep-alive connections.
4. Runs the benchmarks of `BENCHMARKS` and prints one table; `.data/bench/last.json` keeps it.
5. Deletes what the benchmarks inserted and vacuums, so the next run starts from the same data.

Adding a row: write `def bench_x(ctx: Context) -> list[Row]` and decorate it with
`@benchmark("x", "what it measures")`; it gets the running server, the API key and helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / ".data" / "bench"
BENCH_SLUG = "bench"
BENCH_OWNER_EMAIL = "owner@bench.test"
REPS = 20
LEAD_TABLE = "leads_lead"
# Mobiles the benchmarks submit start with 199; the loaded data never uses that prefix, so a
# benchmark submission is never collected (归集) into a loaded lead.
BENCH_MOBILE_PREFIX = "199"


def bench_mobile(n: int) -> str:
    """The bench's distinct mobile number `n`, its digits scrambled (× a prime coprime to 10^8
    is a bijection) so that intake does not take a run like 19900000001 for a fake."""
    return f"{BENCH_MOBILE_PREFIX}{(n * 7919 + 13579) % 10**8:08d}"


# --------------------------------------------------------------------------------------------
# results table and the registry
# --------------------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    result: str
    baseline: str
    target: str
    ok: bool | None  # None: informational / not applicable
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    scaled: bool = False  # met only once scaled to the reference machine (see REFERENCE_BARE_RATE)

    @property
    def mark(self) -> str:
        if self.result == "n/a":
            return "n/a"
        if self.ok and self.scaled:
            return "PASS (scaled)"
        return {True: "PASS", False: "FAIL", None: "info"}[self.ok]


@dataclass
class Benchmark:
    key: str
    title: str
    func: Callable[[Context], list[Row]]


BENCHMARKS: list[Benchmark] = []


def benchmark(key: str, title: str) -> Callable[[Callable[[Context], list[Row]]], Callable[[Context], list[Row]]]:
    """Register a benchmark; rows appear in the table in registration order."""

    def register(func: Callable[[Context], list[Row]]) -> Callable[[Context], list[Row]]:
        BENCHMARKS.append(Benchmark(key=key, title=title, func=func))
        return func

    return register


def render_table(rows: list[Row]) -> str:
    headers = ("Benchmark", "Result", "Baseline (same run)", "Target", "")
    cells = [headers] + [(r.name, r.result, r.baseline, r.target, r.mark) for r in rows]

    def width(text: str) -> int:  # CJK takes two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(" | ".join(text + " " * (widths[i] - width(text)) for i, text in enumerate(row)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    notes = [f"  [{r.name}] {r.note}" for r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


# --------------------------------------------------------------------------------------------
# the context every benchmark gets
# --------------------------------------------------------------------------------------------
@dataclass
class Context:
    args: argparse.Namespace
    dsn: str
    host: str
    port: int
    bare_port: int  # the bare-DRF baseline server
    user_ids: tuple[int, int]  # the ids it looks up
    api_key: str
    tenant_id: int
    tenant_slug: str
    session_key: str
    min_id: int
    max_id: int
    search_words: dict[str, str]
    loadgen: str  # "wrk" or "python"
    mobile_base: int
    _mobile_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def take_numbers(self, count: int) -> int:
        """Reserve `count` distinct bench mobile numbers; returns the first."""
        with self._lock:
            first = self.mobile_base + self._mobile_next
            self._mobile_next += count
            return first

    def connect(self, *, bare: bool = False) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.bare_port if bare else self.port, timeout=60)


# --------------------------------------------------------------------------------------------
# realistic data
# --------------------------------------------------------------------------------------------
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉文斌宇浩欣怡涵萱诗雨晨鑫琪俊凯婷雪慧琳颖佳鹏辉飞峰"
BRAND_CHARS = "纷扬创新华信达通宏远博瑞恒泰鼎盛天成锦程智汇云启星辰美邦安捷立讯科海蓝卓越联合正阳金石凯德润鸿运东方"
INDUSTRIES = [
    ("科技", "软件与信息服务"), ("信息技术", "软件与信息服务"), ("网络", "互联网"), ("贸易", "批发零售"),
    ("制造", "制造业"), ("医疗器械", "医疗健康"), ("教育咨询", "教育培训"), ("物流", "交通物流"),
    ("电子", "电子元器件"), ("新材料", "化工材料"), ("餐饮管理", "餐饮"), ("建筑工程", "建筑"),
]
SUFFIXES = [("有限公司", 60), ("股份有限公司", 15), ("集团", 5), ("科技有限公司", 0), ("", 20)]
REGIONS = [
    ("北京市", "北京市", 9), ("上海市", "上海市", 9), ("广东省", "深圳市", 8), ("广东省", "广州市", 7),
    ("浙江省", "杭州市", 6), ("江苏省", "南京市", 4), ("江苏省", "苏州市", 4), ("四川省", "成都市", 4),
    ("湖北省", "武汉市", 3), ("陕西省", "西安市", 2), ("山东省", "济南市", 2), ("山东省", "青岛市", 2),
    ("福建省", "厦门市", 2), ("湖南省", "长沙市", 2), ("河南省", "郑州市", 2), ("天津市", "天津市", 2),
    ("重庆市", "重庆市", 2), ("安徽省", "合肥市", 2), ("辽宁省", "沈阳市", 1), ("江苏省", "常州市", 1),
    ("", "", 15),
]
REGION_PREFIXES = ["北京", "上海", "深圳", "广州", "杭州", "南京", "苏州", "成都", "武汉", "西安"]
STATUSES = [("pending", 35), ("following", 28), ("converted", 8), ("invalid", 10), ("returned", 8),
            ("transferred", 6), ("voided", 5)]
SOURCES = [("website", 25), ("baidu_sem", 20), ("wechat", 15), ("douyin", 10), ("exhibition", 10),
           ("referral", 8), ("api", 7), ("import", 5)]
TITLES = [("总经理", 6), ("CEO", 3), ("采购经理", 10), ("采购总监", 4), ("技术总监", 5), ("IT经理", 8),
          ("市场经理", 10), ("销售总监", 5), ("工程师", 15), ("行政主管", 6), ("财务经理", 5), ("学生", 3), ("", 20)]
SIZES = [("1-49", 30), ("50-99", 20), ("100-499", 20), ("500-999", 10), ("1000+", 8), ("", 12)]
CAMPAIGNS = [("2025春季展会", 5), ("618大促", 5), ("白皮书下载", 10), ("产品试用", 10), ("", 70)]
MAIL_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "sina.com", "foxmail.com", "outlook.com"]
MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["150", "151", "152", "153", "155", "156", "157", "158", "159",
                                                    "173", "176", "177", "178", "180", "181", "182", "183", "185",
                                                    "186", "187", "188", "189", "191", "198"]
NOTES = ["", "", "", "", "客户希望下周电话沟通", "对价格比较敏感", "需要演示环境", "预算已批, 三季度采购"]
ASCII = "abcdefghijklmnopqrstuvwxyz"


def _weighted(pairs: list[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    values, weights = zip(*pairs, strict=True)
    cum, total = [], 0
    for w in weights:
        total += w
        cum.append(total)
    return list(values), cum


@dataclass
class Pools:
    names: list[str]
    companies: list[tuple[str, str, str, str]]  # company, company_key, company_brand, industry
    company_cum: list[float]
    search_words: dict[str, str]
    name_keys: dict[str, str]  # leads.matching.person_name_key of each name


def company_keys(company: str) -> tuple[str, str]:
    """The lead's company_key and company_brand, as intake computes them."""
    from leads.normalization import match_keys  # pure Python, no Django

    keys = match_keys({"company": company, "name": ""})
    return keys["company_key"], keys["company_brand"]


def make_pools(seed: int = 7) -> Pools:
    from leads.matching import person_name_key  # pure Python, no Django

    rnd = random.Random(seed)
    names = [rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2, 2)))) for _ in range(20_000)]
    suffixes, suffix_cum = _weighted(SUFFIXES)
    companies: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    while len(companies) < 30_000:
        brand = "".join(rnd.sample(BRAND_CHARS, 2))
        word, industry = rnd.choice(INDUSTRIES)
        prefix = rnd.choice(REGION_PREFIXES) if rnd.random() < 0.5 else ""
        company = prefix + brand + word + rnd.choices(suffixes, cum_weights=suffix_cum)[0]
        if company in seen:
            continue
        seen.add(company)
        companies.append((company, *company_keys(company), industry))
    # Zipf-ish: a few big customers, a long tail.
    cum, total = [], 0.0
    for rank in range(len(companies)):
        total += 1.0 / (rank + 20)
        cum.append(total)
    # Search words: a 2-character brand (no trigram: the index cannot help) and a 4-character
    # brand + industry word (trigram-searchable), both of middling frequency.
    middle = companies[len(companies) // 3][0]
    stripped = middle
    for prefix in REGION_PREFIXES:
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix):]
            break
    # And what a rep types for a contact: the last four digits of a mobile (trigrams of the
    # number) and the beginning of an e-mail address (the e-mail index, ORed with the trigrams).
    return Pools(names=names, companies=companies, company_cum=cum,
                 search_words={"brand2": stripped[:2], "brand4": stripped[:4], "digits4": "8524", "email": "wang"},
                 name_keys={name: person_name_key(name) for name in names})


def _escape_copy(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


LOAD_COLUMNS = (
    "created_at", "updated_at", "status", "name", "mobile", "phone", "email", "wechat", "company", "company_key",
    "company_brand", "name_key",
    "title", "industry", "company_size", "annual_revenue", "province", "city", "source", "campaign", "utm_source",
    "utm_medium", "utm_campaign", "external_id", "notes", "custom", "tags", "search_text", "search_bigrams", "score_total",
    "score_static", "score_dynamic", "score_smart", "grade", "level", "tier", "is_mature", "owner_assigned_at",
    "last_activity_at", "created_by_id", "duplicate_of_id", "owner_id", "pool_id", "tenant_id",
)


def _default_for(data_type: str) -> str:
    if data_type in ("smallint", "integer", "bigint", "numeric", "real", "double precision"):
        return "0"
    if data_type == "boolean":
        return "f"
    if data_type in ("json", "jsonb"):
        return "{}"
    if data_type == "ARRAY":
        return "{}"
    if data_type.startswith("timestamp"):
        return "now"
    return ""


def generate_copy_rows(
    *, count: int, seed: int, pools: Pools, tenant_id: int, owner_ids: list[int], pool_id: int,
    extra_columns: list[tuple[str, str]], chunk: int = 20_000, now: datetime | None = None,
    mobile_prefixes: list[str] | None = None, span_days: float = 365,
) -> Iterator[bytes]:
    """COPY text lines for `count` leads with realistic distributions, oldest first (ids follow
    created_at as they do in production), in chunks of bytes."""
    from leads.normalization import search_bigrams, search_text

    rnd = random.Random(seed)
    now = now or datetime.now(UTC)
    start = now.timestamp() - span_days * 86400
    stamps = sorted(rnd.uniform(start, now.timestamp()) for _ in range(count))
    statuses, status_cum = _weighted(STATUSES)
    sources, source_cum = _weighted(SOURCES)
    titles, title_cum = _weighted(TITLES)
    sizes, size_cum = _weighted(SIZES)
    campaigns, campaign_cum = _weighted(CAMPAIGNS)
    regions, region_cum = _weighted([((p, c), w) for p, c, w in REGIONS])
    prefixes = mobile_prefixes or MOBILE_PREFIXES
    extra_defaults = [_default_for(t) for _, t in extra_columns]
    lines: list[str] = []
    for i in range(count):
        ts = stamps[i]
        created = datetime.fromtimestamp(ts, UTC)
        created_s = created.isoformat()
        name = rnd.choice(pools.names) if rnd.random() < 0.92 else ""
        mobile = f"+86{rnd.choice(prefixes)}{rnd.randrange(10**8):08d}" if rnd.random() < 0.9 else ""
        phone = f"+8610{rnd.randrange(10**8):08d}" if rnd.random() < 0.08 else ""
        email = (
            f"{''.join(rnd.choices(ASCII, k=rnd.randint(4, 9)))}{rnd.randrange(1000)}@{rnd.choice(MAIL_DOMAINS)}"
            if rnd.random() < 0.6 else ""
        )
        wechat = f"wx_{''.join(rnd.choices(ASCII, k=8))}" if rnd.random() < 0.2 else ""
        if rnd.random() < 0.85:
            company, ckey, brand, industry = rnd.choices(pools.companies, cum_weights=pools.company_cum)[0]
        else:
            company, ckey, brand, industry = "", "", "", ""
        province, city = rnd.choices(regions, cum_weights=region_cum)[0]
        source = rnd.choices(sources, cum_weights=source_cum)[0]
        external_id = f"{source}-{i}-{seed}" if source in ("api", "import") else ""
        static = min(100.0, max(0.0, rnd.gauss(35, 18)))
        dynamic = min(100.0 - static, rnd.expovariate(1 / 12))
        total = static + dynamic
        grade = "A" if static >= 75 else "B" if static >= 50 else "C" if static >= 25 else "D"
        tier = "hot" if total >= 80 else "warm" if total >= 50 else "cold"
        owned = rnd.random() < 0.6
        owner = str(rnd.choice(owner_ids)) if owned and owner_ids else "\\N"
        assigned = (created + timedelta(hours=rnd.uniform(0.1, 48))).isoformat() if owned else "\\N"
        activity = (
            datetime.fromtimestamp(rnd.uniform(ts, now.timestamp()), UTC).isoformat() if rnd.random() < 0.5 else "\\N"
        )
        revenue = f"{rnd.randrange(10, 50_000) * 10_000}.00" if rnd.random() < 0.15 else "\\N"
        notes = rnd.choice(NOTES)
        tags = "{疑似重复}" if rnd.random() < 0.02 else "{}"
        search = search_text({"name": name, "company": company, "mobile": mobile, "email": email,
                              "wechat": wechat, "phone": phone})
        campaign = rnd.choices(campaigns, cum_weights=campaign_cum)[0]
        utm = ("baidu", "cpc", campaign) if source == "baidu_sem" else ("", "", "")
        parts = [
            created_s, created_s, rnd.choices(statuses, cum_weights=status_cum)[0], name, mobile, phone, email, wechat,
            company, ckey, brand, pools.name_keys.get(name, ""), rnd.choices(titles, cum_weights=title_cum)[0], industry,
            rnd.choices(sizes, cum_weights=size_cum)[0], revenue, province, city, source, campaign, utm[0], utm[1],
            utm[2], external_id, notes, "{}", tags, search,
            "{" + ",".join(search_bigrams({"name": name, "company": company})) + "}", f"{total:.2f}", f"{static:.2f}", f"{dynamic:.2f}",
            "\\N", grade, str(rnd.randint(1, 3)), tier, "t" if total >= 50 else "f", assigned, activity, "\\N",
            "\\N", owner, "\\N" if owned else str(pool_id), str(tenant_id),
        ]
        for default in extra_defaults:
            parts.append(created_s if default == "now" else default)
        lines.append("\t".join(parts))
        if len(lines) >= chunk:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()


def lead_payload(n: int, rnd: random.Random, pools: Pools) -> dict[str, Any]:
    """One realistic API submission with the distinct bench mobile number `n`."""
    company, _, _, industry = rnd.choices(pools.companies, cum_weights=pools.company_cum)[0]
    payload: dict[str, Any] = {
        "name": rnd.choice(pools.names),
        "mobile": bench_mobile(n),
        "email": f"bench{n}@{rnd.choice(MAIL_DOMAINS)}",
        "company": company,
        "title": rnd.choice(["采购经理", "IT经理", "总经理", "市场经理", "工程师"]),
        "industry": industry,
        "company_size": rnd.choice(["50-99", "100-499", "500-999"]),
        "source": rnd.choice(["website", "baidu_sem", "wechat"]),
        "campaign": "白皮书下载",
        "utm_source": "baidu",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "notes": "通过官网表单提交, 希望了解私有化部署方案",
    }
    return payload


# --------------------------------------------------------------------------------------------
# database setup
# --------------------------------------------------------------------------------------------
def _admin_dsn(args: argparse.Namespace, dbname: str) -> str:
    return f"host={args.db_host} port={args.db_port} user={args.db_user} dbname={dbname}"


def database_url(args: argparse.Namespace) -> str:
    return f"postgres://{args.db_user}@{args.db_host}:{args.db_port}/{args.database}"


def ensure_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(_admin_dsn(args, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
        if exists and args.fresh:
            log(f"dropping database {args.database} (--fresh)")
            conn.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {args.database}")
            conn.execute(f'CREATE DATABASE "{args.database}"')


def django_env(args: argparse.Namespace, *, owner: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="leadcrm.settings.local",
        DATABASE_URL=database_url(args),
        DEBUG="0",  # DEBUG=True keeps every query in memory and changes the timings
        CONN_MAX_AGE="300",
        API_RATE_LIMIT_PER_MINUTE="100000000",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if owner:
        env["DB_RUN_AS_OWNER"] = "1"
    else:
        env.pop("DB_RUN_AS_OWNER", None)
    return env


def migrate(args: argparse.Namespace) -> None:
    log("migrate (as owner)")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR,
        env=django_env(args, owner=True), check=True,
    )


def django_setup_json() -> int:
    """Runs in a subprocess with the bench environment: tenant, key, reps, session. Prints JSON."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from assignment.models import Pool
    from leadcrm.tenancy.models import Membership, Role, Tenant
    from leadcrm.tenancy.scoping import tenant_scope
    from leadcrm.tenancy.services import membership_create, tenant_create, user_get_or_create

    assert not settings.DEBUG, "the bench must run with DEBUG off"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
        cursor.execute("SELECT value FROM bench_meta WHERE key = 'api_key'")
        row = cursor.fetchone()
    tenant = Tenant.objects.filter(slug=BENCH_SLUG).first()
    if tenant is None or row is None:
        if tenant is not None:
            tenant.delete()  # a half-made bench tenant from an interrupted run
        created = tenant_create(
            slug=BENCH_SLUG, name="压测科技有限公司", admin_email=BENCH_OWNER_EMAIL,
            admin_password="Bench-Password-9", with_api_key=True,
        )
        tenant = created.tenant
        assert created.api_key is not None
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_meta VALUES ('api_key', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [created.api_key.raw_key],
            )
        raw_key = created.api_key.raw_key
    else:
        raw_key = row[0]
    with tenant_scope(tenant.id):
        existing = {m.user.email for m in Membership.objects.select_related("user")}
        for n in range(REPS):
            email = f"rep{n}@bench.test"
            if email not in existing:
                user = user_get_or_create(email=email, name=f"销售{n}")
                membership_create(tenant=tenant, user=user, role=Role.REP, display_name=f"销售{n}")
        rep_ids = list(Membership.objects.filter(role=Role.REP).values_list("user_id", flat=True))
        pool_id = Pool.objects.filter(is_default=True).values_list("id", flat=True).first()
    owner = User.objects.get(email=BENCH_OWNER_EMAIL)
    client = Client()
    client.force_login(owner, backend="leadcrm.tenancy.auth.EmailBackend")
    session = client.session
    session["active_tenant_id"] = tenant.id
    session.save()
    print(json.dumps({
        "tenant_id": tenant.id, "api_key": raw_key, "rep_ids": rep_ids, "pool_id": pool_id,
        "session_key": session.session_key,
    }))
    return 0


def tenant_setup(args: argparse.Namespace) -> dict[str, Any]:
    log("bench tenant, API key, reps, session")
    out = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--django-setup-json"], cwd=BASE_DIR,
        env=django_env(args, owner=True), check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def extra_not_null_columns(conn: Any) -> list[tuple[str, str]]:
    """NOT NULL columns without a default that this loader does not know (added by later
    migrations): filled with a type-appropriate empty value so the load keeps working."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL ORDER BY ordinal_position", [LEAD_TABLE],
    ).fetchall()
    return [(name, kind) for name, kind in rows if name not in LOAD_COLUMNS and name != "id"]


def _one_row(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, SHOW)."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row


def load_leads(args: argparse.Namespace, info: dict[str, Any], pools: Pools) -> None:
    import psycopg

    with psycopg.connect(_admin_dsn(args, args.database), autocommit=True) as conn:
        have = _one_row(conn.execute(f"SELECT count(*) FROM {LEAD_TABLE} WHERE tenant_id = %s", [info["tenant_id"]]))[0]
        meta: dict[str, str] = dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())
        if have >= args.leads and "loaded_max_id" in meta:
            log(f"reusing {have:,} leads already in {args.database}")
            return
        missing = args.leads - have
        extra = extra_not_null_columns(conn)
        log(f"loading {missing:,} leads with COPY (indexes rebuilt afterwards)")
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
            conn.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute("SET LOCAL session_replication_role = replica")  # our rows are valid: no FK triggers
            indexes = conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.schemaname = 'public' "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", [LEAD_TABLE],
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            columns = ", ".join(list(LOAD_COLUMNS) + [name for name, _ in extra])
            with conn.cursor().copy(f"COPY {LEAD_TABLE} ({columns}) FROM STDIN") as copy:
                for chunk in generate_copy_rows(
                    count=missing, seed=args.seed + have, pools=pools, tenant_id=info["tenant_id"],
                    owner_ids=info["rep_ids"], pool_id=info["pool_id"], extra_columns=extra,
                ):
                    copy.write(chunk)
            log(f"  rows in {time.perf_counter() - started:.0f} s; building {len(indexes)} indexes")
            for _, definition in indexes:
                conn.execute(definition)
            max_id = _one_row(conn.execute(f"SELECT max(id) FROM {LEAD_TABLE}"))[0]
            conn.execute(
                "INSERT INTO bench_meta VALUES ('loaded_max_id', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [str(max_id)],
            )
        log(f"  loaded in {time.perf_counter() - started:.0f} s; VACUUM ANALYZE")
        conn.execute(f"VACUUM (ANALYZE) {LEAD_TABLE}")
        log(f"  done in {time.perf_counter() - started:.0f} s")


def cleanup(args: argparse.Namespace, *, vacuum: bool) -> int:
    """Delete what the benchmarks inserted (everything after the loaded leads)."""
    import psycopg

    with psycopg.connect(_admin_dsn(args, args.database), autocommit=True) as conn:
        meta: dict[str, str] = dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())
        if "loaded_max_id" not in meta:
            return 0
        with conn.transaction():
            conn.execute("DELETE FROM scoring_leadevent")
            conn.execute("DELETE FROM scoring_scorechange")
            conn.execute("DELETE FROM leads_leadsubmission")
            conn.execute("DELETE FROM leads_intakerecord")
            conn.execute("DELETE FROM tenancy_idempotencyrecord")
            conn.execute("DELETE FROM tenancy_auditlog WHERE action = 'lead.owner_change'")
            conn.execute(f"UPDATE {LEAD_TABLE} SET duplicate_of_id = NULL WHERE duplicate_of_id > %s",
                         [int(meta["loaded_max_id"])])
            deleted = conn.execute(f"DELETE FROM {LEAD_TABLE} WHERE id > %s", [int(meta["loaded_max_id"])]).rowcount
        if vacuum:
            # What the benchmarks left dead (deleted leads, rescored and rolled-back rows, released
            # contact locks) goes before the next run, which a server without autovacuum would not do.
            dead = [table for table, count in conn.execute(
                "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                [[LEAD_TABLE, "leads_contactlock", "scoring_scorechange", "scoring_leadevent"]],
            ).fetchall() if count > 10_000]
            if deleted or dead:
                log(f"cleanup: deleted {deleted:,} benchmark leads; VACUUM ANALYZE {', '.join(dead) or LEAD_TABLE}")
                conn.execute(f"VACUUM (ANALYZE) {', '.join(dead) or LEAD_TABLE}")
        return deleted


def vacuum_as_autovacuum_would(args: argparse.Namespace, *tables: str) -> None:
    """VACUUM what a step left dead, as autovacuum would before the next big write. A server
    may run with autovacuum off (CI machines do): then a million dead row versions from one
    rescore would slow the next one and its baseline, which a deployment never sees."""
    import psycopg

    with psycopg.connect(_admin_dsn(args, args.database), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        log(f"VACUUM ANALYZE {', '.join(tables)}: {time.perf_counter() - started:.1f} s")


def id_ranges(args: argparse.Namespace, tenant_id: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The bench tenant's lead ids and the user ids (for the bare-DRF baseline)."""
    import psycopg

    with psycopg.connect(_admin_dsn(args, args.database)) as conn:
        low, high = _one_row(conn.execute(f"SELECT min(id), max(id) FROM {LEAD_TABLE} WHERE tenant_id = %s", [tenant_id]))
        user_low, user_high = _one_row(conn.execute("SELECT min(id), max(id) FROM auth_user"))
    return (int(low), int(high)), (int(user_low), int(user_high))


def prewarm(args: argparse.Namespace) -> None:
    """Read the lead table and its indexes into memory, so the first benchmark does not pay for
    a cold cache (after a load or a reboot the figures otherwise depend on disk reads)."""
    import psycopg

    with psycopg.connect(_admin_dsn(args, args.database), autocommit=True) as conn:
        started = time.perf_counter()
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            relations = conn.execute(
                "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = %s::regclass "
                "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)", [LEAD_TABLE, LEAD_TABLE],
            ).fetchall()
            blocks = sum(_one_row(conn.execute("SELECT pg_prewarm(%s::regclass, 'read')", [name]))[0]
                         for (name,) in relations)
        except psycopg.Error as error:  # pg_prewarm not installed: a sequential scan warms the table
            log(f"pg_prewarm unavailable ({error.__class__.__name__}); scanning {LEAD_TABLE} instead")
            conn.execute(f"SELECT count(*) FROM {LEAD_TABLE}")
            return
        log(f"prewarmed {LEAD_TABLE} and its indexes: {blocks * 8 // 1024:,} MB in {time.perf_counter() - started:.1f} s")


# --------------------------------------------------------------------------------------------
# server and load generators
# --------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, port: int, *, settings: str = "") -> subprocess.Popen[bytes]:
    """gunicorn with the product (or, with `settings`, another Django project) on loopback."""
    kind, _, shape = args.server.partition(":")
    workers, _, threads = shape.partition("x")
    command = [
        sys.executable, "-m", "gunicorn", "leadcrm.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", workers or "2", "--worker-class", kind, "--backlog", "2048", "--keep-alive", "5",
        "--log-level", "warning", "--error-logfile", str(OUT_DIR / "gunicorn.log"),
    ]
    if kind == "gthread":
        command += ["--threads", threads or "4"]
    env = django_env(args, owner=False)
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    log(f"gunicorn {args.server} on 127.0.0.1:{port}{f' ({settings})' if settings else ''}")
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def request(conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str],
            body: bytes | None = None) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data, time.perf_counter() - started


def wait_ready(ctx: Context, server: subprocess.Popen[bytes], timeout: float = 60, *, bare: bool = False) -> None:
    deadline = time.monotonic() + timeout
    path, headers = (f"/users/{ctx.user_ids[0]}", {}) if bare else (f"/api/v1/leads/{ctx.min_id}", ctx.auth)
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}); see {OUT_DIR / 'gunicorn.log'}")
        try:
            conn = ctx.connect(bare=bare)
            status, _, _ = request(conn, "GET", path, headers)
            conn.close()
            if status == 200:
                break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        raise SystemExit("the server did not answer in time")
    conn = ctx.connect()
    status, body, _ = request(conn, "GET", "/no-such-page-bench", {})
    if b"Using the URLconf" in body:
        raise SystemExit("the server runs with DEBUG on; the figures would be wrong")


def ensure_wrk(args: argparse.Namespace) -> str | None:
    if args.no_wrk:
        return None
    if path := shutil.which("wrk"):
        return path
    if args.install_wrk and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk with apt-get (fallback: the Python load generator)")
        done = subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
    return shutil.which("wrk")


WRK_SCRIPT = r"""
-- generated by tools/bench.py
local names = {"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄涛", "周杰", "吴婷"}
local companies = {%(companies)s}
local industries = {%(industries)s}
local titles = {"采购经理", "IT经理", "总经理", "市场经理", "工程师"}
local sources = {"website", "baidu_sem", "wechat"}
local domains = {"qq.com", "163.com", "126.com", "gmail.com"}
statuses = {}
local mode, key, base, low, high = "get", "", 0, 1, 1
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode, key, base, low, high = args[1], args[2], tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  math.randomseed(base)
end

local function pick(list) return list[math.random(#list)] end

function request()
  local auth = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
  if mode == "get" then
    return wrk.format("GET", "/api/v1/leads/" .. math.random(low, high), auth)
  end
  if mode == "bare" then
    return wrk.format("GET", "/users/" .. math.random(low, high))
  end
  local n = base + counter
  counter = counter + 1
  local c = math.random(#companies)
  local body = string.format(
    '{"name":"%%s","mobile":"199%%08d","email":"bench%%d@%%s","company":"%%s","title":"%%s","industry":"%%s",' ..
    '"company_size":"100-499","source":"%%s","campaign":"白皮书下载","utm_source":"baidu","utm_medium":"cpc",' ..
    '"utm_campaign":"spring","notes":"通过官网表单提交, 希望了解私有化部署方案"}',
    pick(names), (n * 7919 + 13579) %% 100000000, n, pick(domains), companies[c], pick(titles), industries[c], pick(sources))
  return wrk.format("POST", "/api/v1/leads", auth, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local parts = {}
  local merged = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do merged[k] = (merged[k] or 0) + v end
  end
  for k, v in pairs(merged) do table.insert(parts, string.format('"%%d":%%d', k, v)) end
  local e = summary.errors
  local quantiles = {}
  for q = 1, 200 do table.insert(quantiles, string.format("%%d", latency:percentile(q / 2))) end
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"errors":%%d,"statuses":{%%s},' ..
    '"quantiles_us":[%%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ","), table.concat(quantiles, ",")))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    statuses: dict[int, int]
    quantiles_ms: list[float] = field(default_factory=list)  # the 0.5th, 1st, ... 100th percentiles

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ok_count(self, *codes: int) -> int:
        return sum(self.statuses.get(code, 0) for code in codes)


def merge_loads(results: list[LoadResult]) -> LoadResult:
    """Several slices of one load as one result; percentiles from the slices' latency
    distributions, each weighted by its request count."""
    weighted: list[tuple[float, float]] = []
    for result in results:
        if result.quantiles_ms and result.requests:
            weight = result.requests / len(result.quantiles_ms)
            weighted += [(q, weight) for q in result.quantiles_ms]
    weighted.sort()
    total = sum(w for _, w in weighted)

    def pct(p: float) -> float:
        running = 0.0
        for value, weight in weighted:
            running += weight
            if running >= p / 100 * total:
                return value
        return weighted[-1][0] if weighted else math.nan

    statuses: Counter[int] = Counter()
    for result in results:
        statuses.update(result.statuses)
    return LoadResult(
        requests=sum(r.requests for r in results), seconds=sum(r.seconds for r in results),
        p50_ms=pct(50), p95_ms=pct(95), p99_ms=pct(99), errors=sum(r.errors for r in results),
        statuses=dict(statuses), quantiles_ms=[pct(q / 2) for q in range(1, 201)],
    )


def _wrk_script(pools: Pools) -> Path:
    sample = pools.companies[:200]
    lua = WRK_SCRIPT % {
        "companies": ", ".join(f'"{c}"' for c, _, _, _ in sample),
        "industries": ", ".join(f'"{i}"' for _, _, _, i in sample),
    }
    path = OUT_DIR / "load.lua"
    path.write_text(lua, encoding="utf-8")
    return path


def run_load(ctx: Context, *, mode: str, duration: float, concurrency: int, pools: Pools) -> LoadResult:
    """Closed-loop load at `concurrency`: mode "get" (one lead by id), "post" (single lead) or
    "bare" (the bare-DRF baseline: one user by id)."""
    base = ctx.take_numbers(5_000_000) if mode == "post" else 0
    port, low, high = (ctx.bare_port, *ctx.user_ids) if mode == "bare" else (ctx.port, ctx.min_id, ctx.max_id)
    if ctx.loadgen == "wrk":
        script = _wrk_script(pools)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(script),
             f"http://{ctx.host}:{port}", "--", mode, ctx.api_key, str(base), str(low), str(high)],
            capture_output=True, text=True, check=True,
        )
        line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
        data = json.loads(line[len("WRKJSON "):])
        return LoadResult(
            requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1e3,
            p95_ms=data["p95_us"] / 1e3, p99_ms=data["p99_us"] / 1e3, errors=data["errors"],
            statuses={int(k): v for k, v in data["statuses"].items()},
            quantiles_ms=[q / 1e3 for q in data["quantiles_us"]],
        )
    return _python_load(ctx, mode=mode, duration=duration, concurrency=concurrency, pools=pools, base=base)


def _python_load(ctx: Context, *, mode: str, duration: float, concurrency: int, pools: Pools, base: int) -> LoadResult:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration
    counter = iter(range(base, base + 10**7))

    def worker(seed: int) -> None:
        nonlocal errors
        rnd = random.Random(seed)
        conn = ctx.connect(bare=mode == "bare")
        headers = {**ctx.auth, "Content-Type": "application/json"}
        mine: list[float] = []
        codes: Counter[int] = Counter()
        while time.perf_counter() < stop_at:
            try:
                if mode == "get":
                    status, _, took = request(conn, "GET", f"/api/v1/leads/{rnd.randint(ctx.min_id, ctx.max_id)}", headers)
                elif mode == "bare":
                    status, _, took = request(conn, "GET", f"/users/{rnd.randint(*ctx.user_ids)}", {})
                else:
                    with lock:
                        n = next(counter)
                    body = json.dumps(lead_payload(n, rnd, pools)).encode()
                    status, _, took = request(conn, "POST", "/api/v1/leads", headers, body)
                mine.append(took)
                codes[status] += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = ctx.connect(bare=mode == "bare")
                with lock:
                    errors += 1
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    seconds = run_threads(worker, concurrency)
    p50, p95, p99 = percentiles(latencies, 50, 95, 99)
    return LoadResult(requests=len(latencies), seconds=seconds, p50_ms=p50, p95_ms=p95, p99_ms=p99, errors=errors,
                      statuses=dict(statuses), quantiles_ms=percentiles(latencies, *(q / 2 for q in range(1, 201))))


def run_threads(worker: Any, concurrency: int) -> float:
    """Run `worker(i)` in `concurrency` threads; the wall time in seconds until all finish."""
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def percentiles(seconds: list[float], *ps: float) -> list[float]:
    """Percentiles in milliseconds (nearest rank)."""
    if not seconds:
        return [math.nan for _ in ps]
    ordered = sorted(seconds)
    return [ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))] * 1000 for p in ps]


def sequential(ctx: Context, path: str, count: int, headers: dict[str, str]) -> tuple[list[float], Counter[int], int]:
    """`count` sequential GETs on one keep-alive connection (after 5 warm-up requests)."""
    conn = ctx.connect()
    times: list[float] = []
    codes: Counter[int] = Counter()
    size = 0
    for n in range(count + 5):
        status, body, took = request(conn, "GET", path, headers)
        if n >= 5:
            times.append(took)
            codes[status] += 1
            size = len(body)
    conn.close()
    return times, codes, size


def fmt_ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


# --------------------------------------------------------------------------------------------
# the benchmarks
# --------------------------------------------------------------------------------------------
def _get_baseline(ctx: Context, pools: Pools) -> LoadResult:
    if "get_c8" not in ctx.cache:
        ctx.cache["get_c8"] = run_load(ctx, mode="get", duration=min(10.0, ctx.args.duration), concurrency=ctx.args.concurrency, pools=pools)
    return ctx.cache["get_c8"]


# The single-lead targets were set on a machine where the bare-DRF baseline answered ~870 req/s.
# This machine is shared and its speed drifts from run to run, so each target is also checked
# scaled by the baseline measured in the same run: throughput as a fraction of the baseline's,
# latency multiplied by how much slower than the reference the baseline ran.
REFERENCE_BARE_RATE = 870.0
POST_TARGET_RATE = 250.0
POST_TARGET_P95_MS = 60.0


@benchmark("post", "single-lead POST /api/v1/leads at concurrency 8")
def bench_single_post(ctx: Context) -> list[Row]:
    pools: Pools = ctx.cache["pools"]
    c = ctx.args.concurrency
    for mode in ("bare", "get", "post"):  # warm every worker thread: connections, lazy imports, caches
        run_load(ctx, mode=mode, duration=2, concurrency=c, pools=pools)
    # POST and the bare baseline in alternating slices, so both see the same machine.
    slices = max(1, round(ctx.args.duration / 5))
    bare_parts: list[LoadResult] = []
    post_parts: list[LoadResult] = []
    for _ in range(slices):
        bare_parts.append(run_load(ctx, mode="bare", duration=ctx.args.duration / slices, concurrency=c, pools=pools))
        post_parts.append(run_load(ctx, mode="post", duration=ctx.args.duration / slices, concurrency=c, pools=pools))
    bare, post = merge_loads(bare_parts), merge_loads(post_parts)
    get = _get_baseline(ctx, pools)
    created = post.ok_count(201)
    other = {k: v for k, v in post.statuses.items() if k != 201}
    rate = created / post.seconds if post.seconds else 0.0
    speed = bare.rate / REFERENCE_BARE_RATE  # this machine today, relative to the reference
    ratio = rate / bare.rate if bare.rate else 0.0
    scaled_p95 = post.p95_ms * speed
    note = (f"{post.requests} requests in {post.seconds:.1f} s via {ctx.loadgen}, in {slices} slices alternating "
            f"with the bare-DRF baseline; that baseline ran at {speed:.2f}x the reference machine's {REFERENCE_BARE_RATE:.0f} req/s")
    if other or post.errors:
        note += f"; non-201: {other}, socket errors {post.errors}"
    rate_ok = rate >= POST_TARGET_RATE
    p95_ok = post.p95_ms <= POST_TARGET_P95_MS
    return [
        Row(
            name=f"POST /leads throughput (c={c})", result=f"{rate:.0f} leads/s = {ratio:.2f}x bare",
            baseline=f"bare DRF: {bare.rate:.0f} req/s; GET /leads/{{id}}: {get.rate:.0f} req/s",
            target=f">= {POST_TARGET_RATE:.0f}/s or >= {POST_TARGET_RATE / REFERENCE_BARE_RATE:.2f}x bare",
            ok=rate_ok or ratio >= POST_TARGET_RATE / REFERENCE_BARE_RATE, scaled=not rate_ok, note=note,
            data={"rate": rate, "ratio_to_bare": ratio, "requests": post.requests, "statuses": post.statuses,
                  "bare_rate": bare.rate, "get_rate": get.rate, "machine_speed": speed},
        ),
        Row(
            name=f"POST /leads latency (c={c})",
            result=f"p50 {fmt_ms(post.p50_ms)} / p95 {fmt_ms(post.p95_ms)} ms (scaled p95 {fmt_ms(scaled_p95)})",
            baseline=f"bare: p95 {fmt_ms(bare.p95_ms)} ms; GET: p95 {fmt_ms(get.p95_ms)} ms",
            target=f"p95 <= {POST_TARGET_P95_MS:.0f} ms", ok=p95_ok or scaled_p95 <= POST_TARGET_P95_MS, scaled=not p95_ok,
            data={"p50_ms": post.p50_ms, "p95_ms": post.p95_ms, "p99_ms": post.p99_ms, "scaled_p95_ms": scaled_p95,
                  "bare_p95_ms": bare.p95_ms},
        ),
    ]


def copy_rates(ctx: Context) -> tuple[float, float]:
    """COPY of `--copy-rows` generated leads into the live table (all indexes, FK triggers)
    and into an index-free clone; both rolled back. Rows/s, generation time excluded."""
    if "copy" in ctx.cache:
        return ctx.cache["copy"]
    import psycopg

    pools: Pools = ctx.cache["pools"]
    info = ctx.cache["info"]
    count = ctx.args.copy_rows
    with psycopg.connect(ctx.dsn) as conn:
        extra = extra_not_null_columns(conn)
        chunks = list(generate_copy_rows(
            count=count, seed=random.randrange(10**9), pools=pools, tenant_id=ctx.tenant_id, owner_ids=info["rep_ids"],
            pool_id=info["pool_id"], extra_columns=extra, mobile_prefixes=["199"],
            span_days=1 / 24,  # fresh leads, as the API writes them: the time indexes grow at the edge
        ))
        conn.rollback()
        columns = ", ".join(list(LOAD_COLUMNS) + [name for name, _ in extra])
        rates = []
        for table in (LEAD_TABLE, "bench_copy_plain"):
            with conn.transaction(force_rollback=True):
                if table != LEAD_TABLE:
                    conn.execute(f"CREATE TABLE {table} (LIKE {LEAD_TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
                started = time.perf_counter()
                with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for chunk in chunks:
                        copy.write(chunk)
                rates.append(count / (time.perf_counter() - started))
    ctx.cache["copy"] = (rates[0], rates[1])
    return ctx.cache["copy"]


BULK_TARGET_RATE = 4000.0
BULK_TARGET_COPY_RATIO = 10.0


@benchmark("bulk", "bulk POST /api/v1/leads/bulk, 1000 leads per call")
def bench_bulk(ctx: Context) -> list[Row]:
    pools: Pools = ctx.cache["pools"]
    copy_live, _ = copy_rates(ctx)
    concurrency = ctx.args.bulk_concurrency
    created = 0
    calls: list[float] = []
    problems: Counter[str] = Counter()
    lock = threading.Lock()

    # The bodies are made before the clock runs and the answers are read with one regex: the
    # load generator shares the two cores with the server and must not eat into its share.
    def make_body(rnd: random.Random) -> bytes:
        first = ctx.take_numbers(1000)
        return json.dumps({"leads": [lead_payload(first + i, rnd, pools) for i in range(1000)]}).encode()

    rnd = random.Random(ctx.args.seed)
    bodies = [make_body(rnd) for _ in range(max(8, round(ctx.args.duration * 6)))]
    outcome_re = re.compile(rb'"outcome":"(\w+)"')

    def next_body() -> bytes:
        with lock:
            if bodies:
                return bodies.pop()
        return make_body(random.Random())

    def worker(seed: int, stop_at: float) -> None:
        nonlocal created
        headers = {**ctx.auth, "Content-Type": "application/json"}
        first_call = True
        while time.perf_counter() < stop_at or first_call:
            first_call = False
            body = next_body()
            # A new connection per call, as a load balancer would spread them: two keep-alive
            # connections can both be accepted by one gunicorn worker, and then half the runs
            # measured one Python process while the other sat idle.
            conn = ctx.connect()
            status, data, took = request(conn, "POST", "/api/v1/leads/bulk", headers, body)
            conn.close()
            outcomes = Counter(m.decode() for m in outcome_re.findall(data)) if status == 200 else Counter()
            with lock:
                calls.append(took)
                created += outcomes.get("created", 0)
                if status != 200:
                    problems[f"HTTP {status}"] += 1
                for outcome, n in outcomes.items():
                    if outcome != "created":
                        problems[outcome] += n

    # Bulk slices alternating with short probes of the bare-DRF baseline (the machine's speed).
    run_load(ctx, mode="bare", duration=2, concurrency=ctx.args.concurrency, pools=pools)  # warm-up
    slices = max(1, round(ctx.args.duration / 5))
    seconds = 0.0
    probes: list[LoadResult] = []
    for _ in range(slices):
        probes.append(run_load(ctx, mode="bare", duration=3, concurrency=ctx.args.concurrency, pools=pools))
        stop_at = time.perf_counter() + ctx.args.duration / slices
        seconds += run_threads(lambda seed, stop_at=stop_at: worker(seed, stop_at), concurrency)
    speed = merge_loads(probes).rate / REFERENCE_BARE_RATE
    rate = created / seconds
    p50, p95 = percentiles(calls, 50, 95)
    ratio = copy_live / rate if rate else math.inf
    note = f"{len(calls)} calls in {seconds:.1f} s at concurrency {concurrency}; call p50 {p50:.0f} ms, p95 {p95:.0f} ms"
    if problems:
        note += f"; not created: {dict(problems)}"
    rate_ok = rate >= BULK_TARGET_RATE
    scaled_ok = rate >= BULK_TARGET_RATE * speed
    note += (f"; in {slices} slices alternating with the bare-DRF baseline, which ran at {speed:.2f}x the "
             f"reference: scaled rate target {BULK_TARGET_RATE * speed:,.0f}/s")
    return [Row(
        name="POST /leads/bulk (1000/call)", result=f"{rate:,.0f} leads/s",
        baseline=f"COPY: {copy_live:,.0f} rows/s (COPY is {ratio:.1f}x faster)",
        target=f">= {BULK_TARGET_RATE:,.0f}/s (scaled) and <= {BULK_TARGET_COPY_RATIO:.0f}x COPY",
        ok=(rate_ok or scaled_ok) and ratio <= BULK_TARGET_COPY_RATIO, scaled=not rate_ok, note=note,
        data={"rate": rate, "calls": len(calls), "call_p50_ms": p50, "call_p95_ms": p95, "copy_ratio": ratio,
              "machine_speed": speed},
    )]


# --- events -----------------------------------------------------------------------------------
EVENTS_TARGET_RATE = 5000.0
EVENT_SCORE_TARGET_P95_MS = 1000.0
EVENT_TYPES = [("page_view", 40), ("email_open", 25), ("pricing_page_view", 10), ("whitepaper_download", 8),
               ("email_reply", 6), ("webinar_attend", 4), ("demo_request", 3), ("unsubscribe", 2), ("email_bounce", 2)]
EVENT_COPY_COLUMNS = ("tenant_id", "created_at", "updated_at", "lead_id", "event_id", "type", "occurred_at", "properties",
                      "status", "flag", "ref_kind", "ref_value")


def celery_purge(args: argparse.Namespace) -> None:
    """Empty the broker's queue: the events bench enqueues rescores that no worker runs."""
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "leadcrm", "purge", "-f"], cwd=BASE_DIR,
        env=django_env(args, owner=False), check=False, capture_output=True,
    )


def event_items(ctx: Context, rnd: random.Random, run: str, first: int, count: int) -> list[dict[str, Any]]:
    """Events for random loaded leads by id (one in fifty for a mobile no lead has: pending)."""
    types, weights = _weighted(EVENT_TYPES)
    now = datetime.now(UTC)
    items = []
    for n in range(first, first + count):
        lead: dict[str, Any] = (
            {"mobile": bench_mobile(10**7 + n)} if n % 50 == 0 else {"id": rnd.randint(ctx.min_id, ctx.max_id)}
        )
        items.append({
            "event_id": f"bench-{run}-{n}", "lead": lead, "type": rnd.choices(types, weights)[0],
            "occurred_at": (now - timedelta(minutes=rnd.randint(0, 60 * 24 * 30))).isoformat(),
            "properties": {"page": f"/p/{n % 97}"},
        })
    return items


def event_copy_rate(ctx: Context, items: list[dict[str, Any]]) -> float:
    """COPY of the same events into the event table (unique key, indexes), rolled back: rows/s."""
    import psycopg

    now = datetime.now(UTC).isoformat()
    lines = []
    for item in items:
        lead = item["lead"]
        values = [str(ctx.tenant_id), now, now, str(lead.get("id", "\\N")), item["event_id"], item["type"],
                  item["occurred_at"], json.dumps(item["properties"]), "attached" if "id" in lead else "pending", "",
                  "id" if "id" in lead else "mobile", str(lead.get("id") or lead.get("mobile"))]
        lines.append("\t".join(_escape_copy(v) if v != "\\N" else v for v in values) + "\n")
    data = "".join(lines).encode()
    with psycopg.connect(ctx.dsn) as conn, conn.transaction(force_rollback=True):
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY scoring_leadevent ({', '.join(EVENT_COPY_COLUMNS)}) FROM STDIN") as copy:
            copy.write(data)
        return len(items) / (time.perf_counter() - started)


@benchmark("events", "POST /api/v1/events, 1000 events per call, concurrency 2, 1M leads present")
def bench_events(ctx: Context) -> list[Row]:
    run = f"{int(time.time())}"
    rnd = random.Random(ctx.args.seed)
    counter = 0
    accepted = 0
    calls: list[float] = []
    problems: Counter[str] = Counter()
    lock = threading.Lock()

    def make_body() -> bytes:
        nonlocal counter
        with lock:
            first, counter = counter, counter + 1000
        return json.dumps({"events": event_items(ctx, random.Random(first), run, first, 1000)}).encode()

    bodies = [make_body() for _ in range(max(8, round(ctx.args.duration * 8)))]
    copy_rate = event_copy_rate(ctx, event_items(ctx, rnd, f"copy-{run}", 0, 20_000))
    accepted_re = re.compile(rb'"accepted":(\d+)')

    def worker(seed: int, stop_at: float) -> None:
        nonlocal accepted
        headers = {**ctx.auth, "Content-Type": "application/json"}
        while time.perf_counter() < stop_at:
            with lock:
                body = bodies.pop() if bodies else None
            body = body or make_body()
            conn = ctx.connect()  # a new connection per call, as in the bulk bench
            status, data, took = request(conn, "POST", "/api/v1/events", headers, body)
            conn.close()
            match = accepted_re.search(data) if status == 202 else None
            with lock:
                calls.append(took)
                if match:
                    accepted += int(match.group(1))
                else:
                    problems[f"HTTP {status}"] += 1

    celery_purge(ctx.args)
    try:
        warm_until = time.perf_counter() + 2
        run_threads(lambda seed: worker(seed, warm_until), 1)
        accepted, calls[:] = 0, []
        stop_at = time.perf_counter() + ctx.args.duration
        seconds = run_threads(lambda seed: worker(seed, stop_at), 2)
    finally:
        celery_purge(ctx.args)
    rate = accepted / seconds if seconds else 0.0
    p50, p95 = percentiles(calls, 50, 95)
    note = (f"{len(calls)} calls in {seconds:.1f} s; call p50 {p50:.0f} ms, p95 {p95:.0f} ms; ids of random loaded "
            f"leads (1 in 50 a mobile no lead has: pending); no worker runs, the rescores it enqueues are purged")
    if problems:
        note += f"; problems: {dict(problems)}"
    return [Row(
        name="POST /events (1000/call, c=2)", result=f"{rate:,.0f} events/s",
        baseline=f"COPY into the event table: {copy_rate:,.0f} rows/s", target=f">= {EVENTS_TARGET_RATE:,.0f}/s",
        ok=rate >= EVENTS_TARGET_RATE, note=note,
        data={"rate": rate, "calls": len(calls), "call_p50_ms": p50, "call_p95_ms": p95, "copy_rate": copy_rate},
    )]


def start_worker(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {**django_env(args, owner=False), "DB_ASSUME_APP_ROLE": "1"}
    log("celery worker (solo pool)")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "leadcrm", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )


SCORE_SNAPSHOT_COLUMNS = ("score_total", "score_static", "score_dynamic", "grade", "level", "tier", "is_mature",
                          "scored_at", "score_version", "last_activity_at")


@benchmark("event-score", "one event to its score on GET /api/v1/leads/{id}/score, with the worker running")
def bench_event_score(ctx: Context) -> list[Row]:
    import psycopg

    samples = max(20, round(ctx.args.duration * 4))
    rnd = random.Random(ctx.args.seed + 1)
    lead_ids = rnd.sample(range(ctx.min_id, ctx.max_id + 1), samples)
    columns = ", ".join(SCORE_SNAPSHOT_COLUMNS)
    with psycopg.connect(ctx.dsn) as db:
        snapshot = db.execute(f"SELECT id, {columns} FROM {LEAD_TABLE} WHERE id = ANY(%s)", [lead_ids]).fetchall()
    lead_ids = [row[0] for row in snapshot]
    headers = {**ctx.auth, "Content-Type": "application/json"}
    scored_re = re.compile(rb'"scored_at":("[^"]*"|null)')
    run = f"{int(time.time())}"
    celery_purge(ctx.args)
    worker = start_worker(ctx.args)
    latencies: list[float] = []
    inline: list[float] = []
    timeouts = 0
    try:
        api = ctx.connect()

        def post_event(lead_id: int, n: int) -> None:
            body = json.dumps({"events": [{
                "event_id": f"bench-score-{run}-{n}", "lead": {"id": lead_id}, "type": "demo_request",
                "occurred_at": datetime.now(UTC).isoformat(),
            }]}).encode()
            status, data, _ = request(api, "POST", "/api/v1/events", headers, body)
            if status != 202:
                raise SystemExit(f"POST /events answered {status}: {data[:200]!r}")

        # The worker is up when a first event has been scored.
        warm = lead_ids.pop()
        post_event(warm, -1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, data, _ = request(api, "GET", f"/api/v1/leads/{warm}/score", ctx.auth)
            if (m := scored_re.search(data)) and m.group(1) != b"null":
                break
            time.sleep(0.2)
        for n, lead_id in enumerate(lead_ids):
            _, data, _ = request(api, "GET", f"/api/v1/leads/{lead_id}/score", ctx.auth)
            before = scored_re.search(data)
            started = time.perf_counter()
            post_event(lead_id, n)
            # Baseline: what the answer would cost if the score were written inline — the POST
            # and one GET; measured in the same loop, on the same connection.
            _, data, _ = request(api, "GET", f"/api/v1/leads/{lead_id}/score", ctx.auth)
            inline.append(time.perf_counter() - started)
            while (m := scored_re.search(data)) and before and m.group(1) == before.group(1):
                if time.perf_counter() - started > 10:
                    timeouts += 1
                    break
                time.sleep(0.01)
                _, data, _ = request(api, "GET", f"/api/v1/leads/{lead_id}/score", ctx.auth)
            else:
                latencies.append(time.perf_counter() - started)
        api.close()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        celery_purge(ctx.args)
        with psycopg.connect(ctx.dsn) as restore:  # the loaded leads get their scores back
            sets = ", ".join(f"{c} = s.{c}" for c in SCORE_SNAPSHOT_COLUMNS)
            types = ("numeric", "numeric", "numeric", "text", "smallint", "text", "boolean", "timestamptz", "integer",
                     "timestamptz")
            for row in snapshot:
                values = ", ".join(f"%s::{t}" for t in types)
                restore.execute(
                    f"UPDATE {LEAD_TABLE} AS l SET {sets} FROM (SELECT {values}) AS s({columns}) WHERE l.id = %s",
                    [*row[1:], row[0]],
                )
    p50, p95 = percentiles(latencies, 50, 95)
    b50, b95 = percentiles(inline, 50, 95)
    note = (f"{len(latencies)} events, one at a time, each for another random loaded lead; polled every 10 ms "
            f"until scored_at changes; the worker is one solo-pool process")
    if timeouts:
        note += f"; {timeouts} not scored within 10 s"
    return [Row(
        name="event -> score on the API", result=f"p50 {fmt_ms(p50)} / p95 {fmt_ms(p95)} ms",
        baseline=f"POST + one GET (inline): p50 {fmt_ms(b50)} / p95 {fmt_ms(b95)} ms",
        target=f"p95 <= {EVENT_SCORE_TARGET_P95_MS:.0f} ms", ok=p95 <= EVENT_SCORE_TARGET_P95_MS and not timeouts,
        note=note, data={"p50_ms": p50, "p95_ms": p95, "inline_p50_ms": b50, "inline_p95_ms": b95, "timeouts": timeouts},
    )]


@benchmark("list", "lead list pages with 1M leads, sequential keep-alive")
def bench_list(ctx: Context) -> list[Row]:
    n = ctx.args.list_requests
    headers = ctx.auth
    base_times, _, _ = sequential(ctx, f"/api/v1/leads/{(ctx.min_id + ctx.max_id) // 2}", n, headers)
    b50, b95 = percentiles(base_times, 50, 95)
    baseline = f"GET /leads/{{id}}: {fmt_ms(b50)} / {fmt_ms(b95)} ms"
    pages = [
        ("API list, first page", "/api/v1/leads?page_size=50"),
        ("API list, status+score order", "/api/v1/leads?page_size=50&status=following&ordering=-score"),
        (f"API search q={ctx.search_words['brand4']}", f"/api/v1/leads?page_size=50&q={ctx.search_words['brand4']}"),
        (f"API search q={ctx.search_words['brand2']}", f"/api/v1/leads?page_size=50&q={ctx.search_words['brand2']}"),
        (f"API search q={ctx.search_words['digits4']}", f"/api/v1/leads?page_size=50&q={ctx.search_words['digits4']}"),
        (f"API search q={ctx.search_words['email']}", f"/api/v1/leads?page_size=50&q={ctx.search_words['email']}"),
    ]
    rows = []
    for title, path in pages:
        quoted = path.split("?")[0] + "?" + "&".join(
            f"{k}={urllib_quote(v)}" for k, _, v in (p.partition("=") for p in path.split("?")[1].split("&"))
        )
        times, codes, size = sequential(ctx, quoted, n, headers)
        p50, p95 = percentiles(times, 50, 95)
        bad = {k: v for k, v in codes.items() if k != 200}
        rows.append(Row(
            name=title, result=f"p50 {fmt_ms(p50)} / p95 {fmt_ms(p95)} ms", baseline=baseline, target="p95 <= 150 ms",
            ok=p95 <= 150 and not bad, note=f"HTTP {bad}" if bad else "",
            data={"p50_ms": p50, "p95_ms": p95, "bytes": size, "path": quoted},
        ))
    # The workbench list page (built separately): timed when it exists.
    ui_path = f"/{ctx.tenant_slug}/leads"
    cookie = {"Cookie": f"sessionid={ctx.session_key}"}
    conn = ctx.connect()
    status, _, _ = request(conn, "GET", ui_path, cookie)
    conn.close()
    if status != 200:
        rows.append(Row(name=f"UI {ui_path}", result="n/a", baseline=baseline, target="p95 <= 150 ms", ok=None,
                        note=f"GET {ui_path} answered {status}: page not there yet, skipped"))
    else:
        times, codes, size = sequential(ctx, ui_path, n, cookie)
        p50, p95 = percentiles(times, 50, 95)
        rows.append(Row(name=f"UI {ui_path} (session)", result=f"p50 {fmt_ms(p50)} / p95 {fmt_ms(p95)} ms",
                        baseline=baseline, target="p95 <= 150 ms", ok=p95 <= 150,
                        data={"p50_ms": p50, "p95_ms": p95, "bytes": size}))
    return rows


def urllib_quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="-_.")


@benchmark("export", "CSV export of a filtered list of 100,000 leads: first byte and whole file (tools/export_bench.py)")
def bench_export(ctx: Context) -> list[Row]:
    from tools.export_bench import bench_export as run

    return run(ctx)


@benchmark("copy", "PostgreSQL COPY of the same lead rows (the ceiling)")
def bench_copy(ctx: Context) -> list[Row]:
    live, plain = copy_rates(ctx)
    return [Row(
        name=f"COPY into {LEAD_TABLE} ({ctx.args.copy_rows:,} rows)", result=f"{live:,.0f} rows/s",
        baseline=f"no indexes: {plain:,.0f} rows/s", target="ceiling (info)", ok=None,
        note="all indexes and FK triggers on, rolled back; baseline = same rows into an index-free clone",
        data={"rate": live, "plain_rate": plain},
    )]


# --------------------------------------------------------------------------------------------
# duplicate detection: accuracy through the API, and the look-up among 1M leads
# --------------------------------------------------------------------------------------------
DEDUP_EVAL_SLUG = "dedup-eval"


def django_dedup_tenants(count: int) -> int:
    """Runs in a subprocess: `count` fresh tenants with the default configuration and an
    all-scopes key each, one per labelled pair (pairs must not meet each other's leads)."""
    import django

    django.setup()
    from leadcrm.tenancy.services import tenant_create

    run = f"{DEDUP_EVAL_SLUG}-{int(time.time())}"
    keys = []
    for n in range(count):
        created = tenant_create(
            slug=f"{run}-{n}", name=f"查重评估 {n}", admin_email="owner@dedup-eval.test", admin_password="Dedup-Eval-9",
            with_api_key=True,
        )
        assert created.api_key is not None
        keys.append(created.api_key.raw_key)
    print(json.dumps({"run": run, "keys": keys}))
    return 0


def django_dedup_cleanup(run: str) -> int:
    """Runs in a subprocess as the owner: the evaluation's tenants go, with everything in them."""
    import django

    django.setup()
    from leadcrm.tenancy.models import Tenant

    Tenant.objects.filter(slug__startswith=f"{run}-").delete()
    return 0


def _dedup_pairs() -> list[dict[str, str]] | None:
    from tools.dedup_eval import SHARED_PAIRS, load_pairs

    return load_pairs(SHARED_PAIRS) if SHARED_PAIRS.exists() else None


@benchmark("dedup", "duplicate detection of the labelled pairs through POST /api/v1/leads, default rules")
def bench_dedup(ctx: Context) -> list[Row]:
    from tools.dedup_eval import Confusion, evaluate

    rows = _dedup_pairs()
    if rows is None:
        return [Row(name="dedup accuracy (REST)", result="n/a", baseline="", target="P >= 0.98, R >= 0.95", ok=None,
                    note="the shared dedup_pairs.csv is not next to the project folder")]
    out = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--django-dedup-tenants", str(len(rows))], cwd=BASE_DIR,
        env=django_env(ctx.args, owner=True), check=True, capture_output=True, text=True,
    )
    setup = json.loads(out.stdout.strip().splitlines()[-1])
    lock = threading.Lock()
    results: list[tuple[dict[str, str], bool]] = []
    pending = list(zip(rows, setup["keys"], strict=True))

    def post(conn: http.client.HTTPConnection, key: str, fields: dict[str, str]) -> dict[str, Any]:
        body = json.dumps({k: v for k, v in fields.items() if v}).encode()
        _status, data, _ = request(conn, "POST", "/api/v1/leads", {"Authorization": f"Bearer {key}",
                                                                   "Content-Type": "application/json"}, body)
        return dict(json.loads(data))

    def worker(_seed: int) -> None:
        conn = ctx.connect()
        while True:
            with lock:
                if not pending:
                    break
                row, key = pending.pop()
            sides = [{f: row[f"{s}_{f}"] for f in ("name", "company", "mobile", "email")} for s in ("a", "b")]
            first, second = post(conn, key, sides[0]), post(conn, key, sides[1])
            found = "lead" in first and "lead" in second and (
                (second["outcome"] == "merged" and second["lead"]["id"] == first["lead"]["id"])
                or (second["outcome"] == "created" and second["lead"].get("duplicate_of") == first["lead"]["id"])
            )
            with lock:
                results.append((row, found))
        conn.close()

    try:
        seconds = run_threads(worker, 4)
    finally:
        subprocess.run([sys.executable, "-m", "tools.bench", "--django-dedup-cleanup", setup["run"]], cwd=BASE_DIR,
                       env=django_env(ctx.args, owner=True), check=True, capture_output=True, text=True)
    overall, by_kind = Confusion(), dict[str, Confusion]()
    for row, found in results:
        overall.add(truth=row["same"] == "1", predicted=found, row=row)
        by_kind.setdefault(row["kind"], Confusion()).add(truth=row["same"] == "1", predicted=found, row=row)
    pure, _ = evaluate(rows)
    kinds = "; ".join(f"{kind} TP {c.tp} FP {c.fp} FN {c.fn} TN {c.tn}" for kind, c in sorted(by_kind.items()))
    errors = "; ".join(f"{'FN' if r['same'] == '1' else 'FP'} {r['kind']}: {r['a_company']}/{r['a_name']} ~ "
                       f"{r['b_company']}/{r['b_name']}" for r in overall.errors[:10])
    return [Row(
        name="dedup accuracy (REST, dedup_pairs.csv)",
        result=f"P {overall.precision:.3f} / R {overall.recall:.3f} (TP {overall.tp} FP {overall.fp} FN {overall.fn} "
               f"TN {overall.tn})",
        baseline=f"pure matcher: P {pure.precision:.3f} / R {pure.recall:.3f}",
        target="P >= 0.98, R >= 0.95", ok=overall.precision >= 0.98 and overall.recall >= 0.95,
        note=f"{len(rows)} pairs, each a then b into a fresh tenant of its own, {seconds:.0f} s; by kind: {kinds}"
             + (f"; misjudged: {errors}" if errors else ""),
        data={"tp": overall.tp, "fp": overall.fp, "fn": overall.fn, "tn": overall.tn,
              "by_kind": {k: [c.tp, c.fp, c.fn, c.tn] for k, c in by_kind.items()}},
    )]


DEDUP_LOOKUP_TARGET_P95_MS = 20.0
_BASELINE_TABLE = "bench_dedup_baseline"


def django_dedup_lookup(count: int, *, seed: int) -> int:
    """Runs in a subprocess as the owner: times intake's duplicate look-up (the one statement it
    sends, every default rule's keys) for one incoming lead at a time among the bench tenant's
    leads, beside the naive `company % x AND name = y` over a trigram index of full company
    names (its own copy of the leads, so that index never slows the intake benchmarks)."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone
    from opencc_purepy import OpenCC

    from leadcrm.tenancy.models import Tenant
    from leadcrm.tenancy.scoping import tenant_scope
    from leads.intake.batch import IntakeBatch, IntakeItem
    from leads.intake.dedup import _item_keys, _lock_and_look_up, _Probes, _Rule, rule_probes
    from leads.intake.dedup_config import dedup_snapshot
    from leads.intake.stages import normalise
    from leads.matching import parse_company, person_name_key, same_company

    tenant = Tenant.objects.get(slug=BENCH_SLUG)
    rnd = random.Random(seed)
    now = timezone.now()
    since = now - timedelta(days=180)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM bench_meta WHERE key = 'loaded_max_id'")
        loaded_max_id = int(cursor.fetchone()[0])
        cursor.execute("SELECT to_regclass(%s)", [_BASELINE_TABLE])
        if cursor.fetchone()[0] is None:
            log(f"building {_BASELINE_TABLE}: the loaded leads with a trigram index on the full company name")
            cursor.execute(f"CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE TABLE {_BASELINE_TABLE} AS "
                           f"SELECT id, tenant_id, name, company, created_at FROM {LEAD_TABLE} WHERE id <= %s",
                           [loaded_max_id])
            cursor.execute(f"CREATE INDEX {_BASELINE_TABLE}_trgm ON {_BASELINE_TABLE} USING gin (company gin_trgm_ops); "
                           f"ANALYZE {_BASELINE_TABLE}")
        # existing contacts within the window, sampled across the table
        cursor.execute(
            f"SELECT name, company FROM {LEAD_TABLE} TABLESAMPLE SYSTEM (1) REPEATABLE (%s) WHERE tenant_id = %s "
            f"AND created_at >= %s AND company_brand <> '' AND name <> '' AND id <= %s LIMIT %s",
            [seed, tenant.id, since, loaded_max_id, count],
        )
        known = cursor.fetchall()
    t2s = OpenCC("s2t")
    chars = "纷扬创新华信达通宏远博瑞恒泰鼎盛天成锦程智汇云启星辰美邦安捷立讯科海蓝卓越联合正阳金石凯德润鸿运东方"
    incoming: list[tuple[str, str, str]] = []  # kind, name, company
    for name, company in known[:count]:
        parsed = parse_company(company)
        roll = rnd.random()
        if roll < 0.5:  # the same contact, the company written another way
            forms = [parsed.core, f"{parsed.brand}{parsed.industry}（{parsed.city or '北京'}）有限公司", t2s.convert(company),
                     company.replace("有限公司", "") or parsed.core, f"{parsed.brand} {parsed.industry}"]
            incoming.append(("same", name, rnd.choice(forms)))
        elif roll < 0.75:  # a brand one character different
            other = rnd.choice([c for c in chars if c not in parsed.brand])
            incoming.append(("lookalike", name, company.replace(parsed.brand, parsed.brand[0] + other, 1)))
        else:
            incoming.append(("new", name[0] + rnd.choice(chars), rnd.choice(chars) + rnd.choice(chars) + "数据服务有限公司"))

    baseline_sql = (f"SELECT id, name, company FROM {_BASELINE_TABLE} WHERE tenant_id = %s AND created_at >= %s "  # noqa: S608
                    f"AND company %% %s AND name = %s")

    def keys_lookup(name: str, company: str) -> list[Any]:
        batch = IntakeBatch(tenant=tenant, channel="bench", submitted_by=None, api_key=None, waived_reasons=frozenset(),
                            now=now, items=[IntakeItem(index=0, raw={"name": name, "company": company,
                                                                     "mobile": bench_mobile(rnd.randrange(10**7))},
                                                       at=now)])
        normalise(batch)
        snapshot = dedup_snapshot(tenant_id=tenant.id)
        probes = _Probes()
        keys = _item_keys(batch.items[0], snapshot, compares_company=snapshot.compares_company)
        for index, spec in enumerate(snapshot.rules):
            rule_probes(probes, rule=_Rule.of(index, spec, now=now), keys={0: keys})
        found = _lock_and_look_up(tenant_id=tenant.id, lock_keys=[], probes=probes)
        return [c for candidates in found.values() for c in candidates]

    timings: dict[str, list[float]] = {"keys": [], "baseline": []}
    found: dict[str, Counter[str]] = {"keys": Counter(), "baseline": Counter()}
    with tenant_scope(tenant.id), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = 0.3")  # the default, stated
        for warm_name, warm_company in [(n, c) for _, n, c in incoming[:30]]:
            keys_lookup(warm_name, warm_company)
            cursor.execute(baseline_sql, [tenant.id, since, warm_company, warm_name])
            cursor.fetchall()
        for kind, name, company in incoming:
            started = time.perf_counter()
            candidates = keys_lookup(name, company)
            timings["keys"].append(time.perf_counter() - started)
            name_key = person_name_key(name)
            if any(c.name_key == name_key and same_company(company, c.company) for c in candidates):
                found["keys"][kind] += 1
            started = time.perf_counter()
            cursor.execute(baseline_sql, [tenant.id, since, company, name])
            rows = cursor.fetchall()
            timings["baseline"].append(time.perf_counter() - started)
            if any(same_company(company, row[2]) for row in rows):
                found["baseline"][kind] += 1
    kinds = Counter(kind for kind, _, _ in incoming)
    print(json.dumps({
        "count": len(incoming), "kinds": dict(kinds),
        **{name: {"p50_ms": percentiles(values, 50)[0], "p95_ms": percentiles(values, 95)[0],
                  "max_ms": max(values) * 1000, "found": dict(found[name])} for name, values in timings.items()},
    }))
    return 0


@benchmark("import", "CSV import through POST /api/v1/imports to status done, with the worker")
def bench_import(ctx: Context) -> list[Row]:
    from tools.import_bench import bench_import_rows

    return [Row(**row) for row in bench_import_rows(ctx)]


@benchmark("dedup-lookup", "duplicate look-up of one incoming lead among the 1M bench leads")
def bench_dedup_lookup(ctx: Context) -> list[Row]:
    out = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--django-dedup-lookup", str(ctx.args.lookups), "--seed", str(ctx.args.seed)],
        cwd=BASE_DIR, env=django_env(ctx.args, owner=True), check=True, capture_output=True, text=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    keys, baseline = data["keys"], data["baseline"]
    return [Row(
        name="dedup look-up, one lead (all default rules)",
        result=f"p50 {fmt_ms(keys['p50_ms'])} / p95 {fmt_ms(keys['p95_ms'])} ms",
        baseline=f"company % x: p50 {fmt_ms(baseline['p50_ms'])} / p95 {fmt_ms(baseline['p95_ms'])} ms",
        target=f"p95 <= {DEDUP_LOOKUP_TARGET_P95_MS:.0f} ms", ok=keys["p95_ms"] <= DEDUP_LOOKUP_TARGET_P95_MS,
        note=f"{data['count']} incoming leads ({data['kinds']}) against the bench tenant's leads of the last 180 days; "
             f"found a duplicate: keys {keys['found']}, baseline {baseline['found']} (the baseline cannot see a company "
             f"written another way; 'lookalike' and 'new' must stay unmatched)",
        data=data,
    )]



# --------------------------------------------------------------------------------------------
# routing: one mature lead through its pool's rules to a rep, deadline started
# --------------------------------------------------------------------------------------------
def django_routing(count: int, tenant_id: int) -> int:
    """Runs in a subprocess as the app role: `count` mature unowned leads in a bench pool with
    a round-robin rule over five reps, each routed on its own (one transaction each, as the
    routing task does for a lead that just became mature), beside a bare owner UPDATE of one
    lead per transaction. Prints the timings as JSON; removes what it made."""
    import django

    django.setup()
    from django.db import transaction

    from assignment.models import AssignmentRule, Pool, PoolMember, RoutingProfile
    from assignment.routing import leads_route
    from leadcrm.tenancy.models import Membership, Role, Tenant
    from leadcrm.tenancy.scoping import tenant_scope
    from leadcrm.tenancy.services import membership_create, user_get_or_create
    from leads.models import Lead

    tenant = Tenant.objects.get(id=tenant_id)
    run = int(time.time())
    with tenant_scope(tenant_id):
        reps = []
        for n in range(5):
            user = user_get_or_create(email=f"bench-router{n}@bench.test", password="Bench-Router-9")
            if not Membership.objects.filter(user=user).exists():
                membership_create(tenant=tenant, user=user, role=Role.REP, display_name=f"路由{n}")
            RoutingProfile.objects.get_or_create(tenant=tenant, user=user, defaults={"daily_receive_cap": 1_000_000,
                                                                                   "max_open": 1_000_000})
            reps.append(user.id)
        pool = Pool.objects.create(tenant=tenant, name=f"bench-routing-{run}", kind="private", position=99,
                                   entry_conditions={"source": [f"bench-routing-{run}"]})
        for user_id in reps:
            PoolMember.objects.create(tenant=tenant, pool=pool, user_id=user_id)
        AssignmentRule.objects.create(tenant=tenant, pool=pool, position=0, conditions={"province": ["北京"]},
                                      strategy="weighted", reps=[{"user": u, "weight": 1} for u in reps])
        AssignmentRule.objects.create(tenant=tenant, pool=pool, position=1, conditions={},
                                      strategy="round_robin", reps=[{"user": u, "weight": 1} for u in reps])
        leads = Lead.objects.bulk_create([
            Lead(tenant=tenant, pool=pool, name=f"路由{n}", province="广东", is_mature=True, grade="A", tier="hot",
                 source=f"bench-routing-{run}")
            for n in range(2 * count)
        ])
    ids = [lead.id for lead in leads]
    routed, bare = [], []
    try:
        for lead_id in ids[:count]:
            started = time.perf_counter()
            with tenant_scope(tenant_id):
                result = leads_route(tenant=tenant, lead_ids=[lead_id], reason="assignment_rule")
            routed.append(time.perf_counter() - started)
            assert result.assigned, result
        for n, lead_id in enumerate(ids[count:]):
            started = time.perf_counter()
            with tenant_scope(tenant_id), transaction.atomic():
                Lead.objects.filter(id=lead_id).update(owner_id=reps[n % 5])
            bare.append(time.perf_counter() - started)
    finally:
        with tenant_scope(tenant_id):
            Lead.objects.filter(id__in=ids).delete()
            pool.delete()
    print(json.dumps({"routed": routed, "bare": bare}))
    return 0


@benchmark("routing", "routing a mature lead: rules evaluated, rep chosen under locks, owner audited, deadline set")
def bench_routing(ctx: Context) -> list[Row]:
    count = 300
    out = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--django-routing", str(count), "--django-routing-tenant",
         str(ctx.tenant_id)],
        cwd=BASE_DIR, env=django_env(ctx.args, owner=False), check=True, capture_output=True, text=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    routed = data["routed"][20:]  # the first few warm caches and connections
    bare = data["bare"][20:]
    p50, p95 = percentiles(routed, 50, 95)
    b50, b95 = percentiles(bare, 50, 95)
    return [Row(
        name="route one mature lead", result=f"p95 {fmt_ms(p95)} ms (p50 {fmt_ms(p50)} ms)",
        baseline=f"bare owner UPDATE p95 {fmt_ms(b95)} ms (p50 {fmt_ms(b50)} ms)", target="p95 <= 15 ms",
        ok=p95 <= 15, data={"p50_ms": p50, "p95_ms": p95, "baseline_p95_ms": b95},
    )]

# --------------------------------------------------------------------------------------------
# sweep: one full SLA sweep over the bench tenant's open leads, some of them overdue
# --------------------------------------------------------------------------------------------
SWEEP_OVERDUE = 10_000
SWEEP_UPCOMING = 40_000  # owned leads whose deadline is still ahead: in the index, not due
SWEEP_TARGET_S = 10.0
SWEEP_SAVED_TABLE = "bench_sweep_saved"  # the chosen leads' columns before the run, to restore them


def sweep_restore(conn: psycopg.Connection[Any], tenant_id: int) -> int:
    """Put the leads the sweep row changed back as they were loaded and remove what the sweep
    recorded (violations, notices, audit rows, penalties): every run starts from the same data.
    Also run first, so an interrupted run's leftovers never reach the next one."""
    exists = _one_row(conn.execute("SELECT to_regclass(%s) IS NOT NULL", [SWEEP_SAVED_TABLE]))[0]
    if not exists:
        return 0
    with conn.transaction():
        restored = conn.execute(
            f"UPDATE {LEAD_TABLE} l SET owner_id = s.owner_id, owner_assigned_at = s.owner_assigned_at, "
            "status = s.status, pool_id = s.pool_id, deadline_at = s.deadline_at, updated_at = s.updated_at "
            f"FROM {SWEEP_SAVED_TABLE} s WHERE l.tenant_id = %s AND l.id = s.id", [tenant_id],
        ).rowcount
        started_at = _one_row(conn.execute(f"SELECT min(started_at) FROM {SWEEP_SAVED_TABLE}"))[0]
        conn.execute("DELETE FROM assignment_violation WHERE tenant_id = %s", [tenant_id])
        conn.execute("DELETE FROM notifications_notification WHERE tenant_id = %s AND kind LIKE 'sla.%%'", [tenant_id])
        conn.execute("DELETE FROM tenancy_auditlog WHERE tenant_id = %s AND action IN (%s, %s) AND created_at >= %s",
                     [tenant_id, "lead.owner_change", "lead.status_change", started_at])
        conn.execute("DELETE FROM assignment_routingprofile WHERE tenant_id = %s AND created_at >= %s",
                     [tenant_id, started_at])
        conn.execute("UPDATE assignment_routingprofile SET penalty_until = NULL WHERE tenant_id = %s "
                     "AND updated_at >= %s", [tenant_id, started_at])
        conn.execute(f"DROP TABLE {SWEEP_SAVED_TABLE}")
    return int(restored)


def sweep_prepare(conn: psycopg.Connection[Any], tenant_id: int, rep_ids: list[int], pool_id: int) -> None:
    """Set-based: a fixed sample of the loaded leads (by md5 of the id, the same every run) gets
    an owner and a running deadline, SWEEP_OVERDUE of them past due and SWEEP_UPCOMING ahead;
    their columns are saved first in SWEEP_SAVED_TABLE."""
    loaded_max = int(_one_row(conn.execute("SELECT value FROM bench_meta WHERE key = 'loaded_max_id'"))[0])
    with conn.transaction():
        conn.execute(
            f"CREATE TABLE {SWEEP_SAVED_TABLE} AS "
            "SELECT id, owner_id, owner_assigned_at, status, pool_id, deadline_at, updated_at, "
            "       row_number() OVER (ORDER BY md5(id::text)) AS n, now() AS started_at "
            f"  FROM {LEAD_TABLE} WHERE tenant_id = %s AND id <= %s ORDER BY md5(id::text) LIMIT %s",
            [tenant_id, loaded_max, SWEEP_OVERDUE + SWEEP_UPCOMING],
        )
        conn.execute(f"ALTER TABLE {SWEEP_SAVED_TABLE} ADD PRIMARY KEY (id)")
        # Overdue: assigned 2–5 days ago, deadline 1 minute to 2 days ago; upcoming: due within 2 days.
        conn.execute(
            f"UPDATE {LEAD_TABLE} l SET owner_id = (%s::int[])[1 + s.n %% %s], pool_id = %s, "
            "status = CASE WHEN s.n %% 3 = 0 THEN 'following' ELSE 'pending' END, "
            "owner_assigned_at = now() - interval '2 days' - (s.n %% 4320) * interval '1 minute', "
            "deadline_at = CASE WHEN s.n <= %s THEN now() - interval '1 minute' - (s.n %% 2880) * interval '1 minute' "
            "                   ELSE now() + interval '1 minute' + (s.n %% 2880) * interval '1 minute' END "
            f"FROM {SWEEP_SAVED_TABLE} s WHERE l.tenant_id = %s AND l.id = s.id",
            [rep_ids, len(rep_ids), pool_id, SWEEP_OVERDUE, tenant_id],
        )
    conn.execute(f"ANALYZE {LEAD_TABLE}")


def django_sweep(tenant_id: int) -> int:
    """Runs in a subprocess as the app role (RLS on, as the worker runs): EXPLAIN ANALYZE of the
    sweep's selecting statement (rolled back), the overdue rows counted through the partial
    deadline index and by a sequential scan (the baselines), then one full `sla_sweep`, timed.
    Prints JSON."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from assignment.sweep import DUE_SQL, sla_sweep
    from leadcrm.tenancy.models import Tenant
    from leadcrm.tenancy.scoping import tenant_scope

    tenant = Tenant.objects.get(id=tenant_id)
    now = timezone.now()
    params: dict[str, Any] = {"tenant": tenant_id, "now": now, "limit": settings_sweep_batch()}
    count_sql = f"SELECT count(*) FROM {LEAD_TABLE} l WHERE l.tenant_id = %(tenant)s AND l.deadline_at <= %(now)s"
    timings: dict[str, float] = {}
    with tenant_scope(tenant_id), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {DUE_SQL}", params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)  # EXPLAIN ANALYZE took the row locks: let them go
    with tenant_scope(tenant_id), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(count_sql.replace("l.deadline_at <=", "l.deadline_at IS NOT NULL AND l.deadline_at <="), params)
        indexed = cursor.fetchone()[0]
        timings["index_count"] = time.perf_counter() - started
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        started = time.perf_counter()
        cursor.execute(count_sql, params)
        scanned = cursor.fetchone()[0]
        timings["seq_count"] = time.perf_counter() - started
    with tenant_scope(tenant_id), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE status IN ('pending', 'following', 'returned', "
                       f"'transferred')) FROM {LEAD_TABLE} WHERE tenant_id = %s", [tenant_id])
        total_leads, open_leads = cursor.fetchone()
    started = time.perf_counter()
    result = sla_sweep(tenant=tenant, now=now)
    seconds = time.perf_counter() - started
    with tenant_scope(tenant_id), connection.cursor() as cursor:
        cursor.execute(count_sql.replace("l.deadline_at <=", "l.deadline_at IS NOT NULL AND l.deadline_at <="), params)
        left = cursor.fetchone()[0]
    print(json.dumps({
        "seconds": seconds, "result": result.as_dict(), "warned": result.warned, "plan": plan,
        "overdue_indexed": indexed, "overdue_scanned": scanned, "left": left, "open": open_leads, "leads": total_leads,
        "batch": params["limit"], **timings,
    }))
    return 0


def settings_sweep_batch() -> int:
    from django.conf import settings

    return int(settings.SLA_SWEEP_BATCH)


@benchmark("sweep", "one full SLA sweep: 1 in 100 leads overdue, each a violation, recycled, penalised, notified")
def bench_sweep(ctx: Context) -> list[Row]:
    import psycopg

    info = ctx.cache["info"]
    with psycopg.connect(ctx.dsn, autocommit=True) as conn:
        if sweep_restore(conn, ctx.tenant_id):
            log("sweep: restored the leads of an interrupted run")
        log(f"sweep: {SWEEP_OVERDUE:,} leads overdue and {SWEEP_UPCOMING:,} due later (set-based UPDATE)")
        sweep_prepare(conn, ctx.tenant_id, info["rep_ids"], info["pool_id"])
    try:
        out = subprocess.run(
            [sys.executable, "-m", "tools.bench", "--django-sweep", str(ctx.tenant_id)], cwd=BASE_DIR,
            env=django_env(ctx.args, owner=False), check=True, capture_output=True, text=True,
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(ctx.dsn, autocommit=True) as conn:
            log(f"sweep: restored {sweep_restore(conn, ctx.tenant_id):,} leads; VACUUM ANALYZE")
            conn.execute(f"VACUUM (ANALYZE) {LEAD_TABLE}")
    done = data["result"]
    plan = " / ".join(line.strip() for line in data["plan"])
    return [Row(
        name=f"SLA sweep, {data['leads']:,} leads ({data['open']:,} open), {data['overdue_indexed']:,} overdue",
        result=f"{data['seconds']:.2f} s", target=f"<= {SWEEP_TARGET_S:.0f} s, index-driven",
        baseline=f"counting the overdue: partial index {fmt_ms(data['index_count'] * 1000)} ms, "
                 f"seq scan {fmt_ms(data['seq_count'] * 1000)} ms",
        ok=data["seconds"] <= SWEEP_TARGET_S and "lead_tenant_deadline_idx" in plan
        and done["violations"] == SWEEP_OVERDUE and data["left"] == 0,
        note=f"{done['violations']:,} violations, {done['recycled']:,} recycled, {data['left']} left due, "
             f"in batches of {data['batch']:,} (one transaction each: violations, owner and status changes "
             f"audited, penalties, notices); the seq-scan count found {data['overdue_scanned']:,}. "
             f"Plan of DUE_SQL (first batch): {plan}",
        data=data,
    )]


# --------------------------------------------------------------------------------------------
# rescoring every lead after a rule change
# --------------------------------------------------------------------------------------------
RESCORE_TARGET_S = 60.0
# The reference machine's raw UPDATE of the same rows (the ceiling) took ~34 s: a rescore within
# 60/34 of the raw UPDATE measured in the same run meets the target once scaled to that machine.
REFERENCE_RAW_UPDATE_S = 34.0
RESCORE_ORM_SAMPLE = 10_000


def django_rescore(step: str) -> int:
    """Runs in a subprocess (the app role, RLS on, as the worker runs): `prepare` publishes the
    default rules and rescores (the loaded leads have scored_at NULL: their first score), `change`
    publishes them plus two attribute rules and times the rescore through the task, `orm` times
    the plain loop (load, engine.score_compute, save) over a sample, rolled back. Prints JSON."""
    import django

    django.setup()
    from django.db import transaction

    from leadcrm.tenancy.models import Tenant
    from leadcrm.tenancy.scoping import tenant_scope
    from leads.models import Lead
    from scoring import engine
    from scoring.models import AttributeRule, RescoreJob, ScoreChange
    from scoring.rule_sets import attribute_rule_save, rule_set_draft_get_or_create, rule_set_publish
    from scoring.selectors import lead_events_for_scoring
    from scoring.services import lead_attributes, lead_inactivity_start, rules_field_names, rules_published
    from scoring.tasks import rescore_job_run_task

    tenant = Tenant.objects.get(slug=BENCH_SLUG)
    if step == "orm":
        with tenant_scope(tenant.id):
            rules = rules_published(tenant_id=tenant.id)
            assert rules is not None
            fields = rules_field_names(rules)
            ids = list(Lead.objects.order_by("?").values_list("id", flat=True)[:RESCORE_ORM_SAMPLE])
            started = time.perf_counter()
            for lead_id in ids:
                lead = Lead.objects.get(id=lead_id)
                own = lead_events_for_scoring(lead_ids=[lead_id]).get(lead_id)
                result = engine.score_compute(
                    rules=rules, attributes=lead_attributes(lead, fields), events=own.events if own else (),
                    now=django_now(), last_activity_at=lead_inactivity_start(lead),
                )
                lead.score_total, lead.score_static, lead.score_dynamic = result.total, result.static, result.dynamic
                lead.grade, lead.level, lead.tier, lead.is_mature = result.grade, result.level, result.tier, result.mature
                lead.save(update_fields=["score_total", "score_static", "score_dynamic", "grade", "level", "tier",
                                         "is_mature"])
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        print(json.dumps({"seconds": seconds, "count": len(ids)}))
        return 0
    with tenant_scope(tenant.id):
        # Each run starts from the same history: the bench's own score changes and jobs go.
        ScoreChange.objects.filter(reason__in=["rescore", "decay"]).delete()
        RescoreJob.objects.all().delete()  # an interrupted earlier run may have left one queued
        draft = rule_set_draft_get_or_create(tenant=tenant)
        AttributeRule.objects.filter(rule_set=draft, label__startswith="bench ").delete()
        if step == "change":
            attribute_rule_save(rule_set=draft, rule_id=None, data={
                "label": "bench 制造业", "dimension": "company", "field": "industry", "operator": "in",
                "value": "制造业, 汽车, 电子", "points": "15"})
            attribute_rule_save(rule_set=draft, rule_id=None, data={
                "label": "bench 总监", "dimension": "contact", "field": "title", "operator": "contains",
                "value": "总监, 经理", "points": "5"})
        job = rule_set_publish(tenant=tenant, rule_set=draft, user=None).job
    # As many workers as a publish enqueues tasks for (settings.SCORING_RESCORE_WORKERS), each a
    # thread with its own connection running the task's body: they share the job's chunks.
    from django.conf import settings
    from django.db import connection

    def worker() -> None:
        try:
            rescore_job_run_task(tenant_id=tenant.id, job_id=job.id)
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(max(1, settings.SCORING_RESCORE_WORKERS))]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - started
    with tenant_scope(tenant.id):
        job.refresh_from_db()
        history = ScoreChange.objects.filter(reason="rescore").count()
    print(json.dumps({"seconds": seconds, "status": job.status, "leads": job.done, "changed": job.changed,
                      "history": history, "version": job.version, "workers": len(workers)}))
    return 0


def django_now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def _django_step(ctx: Context, step: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--django-rescore", step], cwd=BASE_DIR,
        env=django_env(ctx.args, owner=False), check=True, capture_output=True, text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@benchmark("rescore", "full rescore after publishing a rule change, set-based, every lead of the bench tenant")
def bench_rescore(ctx: Context) -> list[Row]:
    import psycopg

    log("rescore: publish the default rules (the loaded leads' first score)")
    first = _django_step(ctx, "prepare")
    log(f"rescore: first score {first['seconds']:.1f} s; now the timed rule change")
    vacuum_as_autovacuum_would(ctx.args, LEAD_TABLE, "scoring_scorechange")
    change = _django_step(ctx, "change")
    vacuum_as_autovacuum_would(ctx.args, LEAD_TABLE, "scoring_scorechange")
    log("rescore: raw UPDATE of the same rows (rolled back)")
    with psycopg.connect(ctx.dsn) as conn:
        started = time.perf_counter()
        # The columns the rescore sets, each to a value that differs (so the indexed grade, tier
        # and total move too and every index takes the new row, as in the rescore).
        updated = conn.execute(
            f"UPDATE {LEAD_TABLE} SET score_total = 100 - score_total, score_static = 100 - score_static, "
            "score_dynamic = - score_dynamic, grade = CASE grade WHEN 'A' THEN 'B' ELSE 'A' END, "
            "level = 4 - level, tier = CASE tier WHEN 'hot' THEN 'cold' ELSE 'hot' END, is_mature = NOT is_mature, "
            "scored_at = now(), score_version = score_version + 1 WHERE tenant_id = %s", [ctx.tenant_id]
        ).rowcount
        raw_seconds = time.perf_counter() - started
        conn.rollback()
    log("rescore: the ORM loop over a sample (rolled back)")
    orm = _django_step(ctx, "orm")
    leads = change["leads"]
    scaled_ok = change["seconds"] <= raw_seconds * RESCORE_TARGET_S / REFERENCE_RAW_UPDATE_S
    orm_extrapolated = orm["seconds"] * leads / max(1, orm["count"])
    return [Row(
        name=f"rescore after a rule change ({leads:,} leads)",
        result=f"{change['seconds']:.1f} s",
        baseline=f"raw UPDATE {raw_seconds:.1f} s; ORM loop ≈ {orm_extrapolated:,.0f} s",
        target=f"<= {RESCORE_TARGET_S:.0f} s, or <= {RESCORE_TARGET_S / REFERENCE_RAW_UPDATE_S:.2f}x raw UPDATE (scaled)",
        ok=change["seconds"] <= RESCORE_TARGET_S or scaled_ok, scaled=change["seconds"] > RESCORE_TARGET_S,
        note=f"v{change['version']}: {change['changed']:,} leads written, {change['history']:,} score changes; "
             f"first score of the loaded leads (scored_at NULL) {first['seconds']:.1f} s for {first['changed']:,}; "
             f"{change['workers']} workers sharing the job's chunks; raw = one UPDATE of the same {updated:,} rows "
             f"setting the same 9 score columns to values that differ (total, grade and tier move); each step starts "
             f"on a vacuumed table, as autovacuum leaves it; ORM loop = "
             f"{orm['count']:,} leads in {orm['seconds']:.1f} s, extrapolated; the raw UPDATE ran "
             f"{raw_seconds / REFERENCE_RAW_UPDATE_S:.2f}x as long as on the reference machine: scaled target "
             f"{raw_seconds * RESCORE_TARGET_S / REFERENCE_RAW_UPDATE_S:.0f} s",
        data={"change": change, "first": first, "raw_seconds": raw_seconds, "orm": orm},
    )]


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load test (default 20)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bulk-concurrency", type=int, default=2)
    parser.add_argument("--list-requests", type=int, default=100)
    parser.add_argument("--copy-rows", type=int, default=50_000)
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads in the bench tenant")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the bench database")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "leadcrm_bench"))
    parser.add_argument("--db-host", default=os.environ.get("BENCH_DB_HOST", "127.0.0.1"))
    parser.add_argument("--db-port", default=os.environ.get("BENCH_DB_PORT", "5432"))
    parser.add_argument("--db-user", default=os.environ.get("BENCH_DB_USER", "postgres"))
    parser.add_argument("--server", default="gthread:2x4",
                        help="gunicorn shape: 'gthread:WORKERSxTHREADS' or 'sync:WORKERS' (default gthread:2x4)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(b.key for b in BENCHMARKS)}")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator")
    parser.add_argument("--no-install-wrk", dest="install_wrk", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the leads the benchmarks inserted")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--django-setup-json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--django-dedup-tenants", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--django-dedup-cleanup", default="", help=argparse.SUPPRESS)
    parser.add_argument("--django-dedup-lookup", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--django-rescore", default="", help=argparse.SUPPRESS)
    parser.add_argument("--django-routing", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--django-routing-tenant", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--django-sweep", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--lookups", type=int, default=500, help="incoming leads the dedup look-up bench times")
    return parser.parse_args(argv)


def machine_notes(args: argparse.Namespace, ctx: Context) -> str:
    import psycopg

    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                   if x.startswith("model name"))
    with psycopg.connect(ctx.dsn) as conn:
        pg = _one_row(conn.execute("SHOW server_version"))[0]
        buffers = _one_row(conn.execute("SHOW shared_buffers"))[0]
        size = _one_row(conn.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{LEAD_TABLE}'))"))[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, PostgreSQL {pg} "
        f"(shared_buffers {buffers}), leads table {size} with {ctx.max_id - ctx.min_id + 1:,} ids; "
        f"load average at start {ctx.cache.get('loadavg', '?')}; "
        f"gunicorn {args.server}, load: {ctx.loadgen}, cache: "
        f"{'redis' if os.environ.get('REDIS_URL') else 'file-based'}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.django_setup_json:
        return django_setup_json()
    if args.django_dedup_tenants:
        return django_dedup_tenants(args.django_dedup_tenants)
    if args.django_dedup_cleanup:
        return django_dedup_cleanup(args.django_dedup_cleanup)
    if args.django_dedup_lookup:
        return django_dedup_lookup(args.django_dedup_lookup, seed=args.seed)
    if args.django_rescore:
        return django_rescore(args.django_rescore)
    if args.django_routing:
        return django_routing(args.django_routing, args.django_routing_tenant)
    if args.django_sweep:
        return django_sweep(args.django_sweep)
    wanted = {k.strip() for k in args.only.split(",") if k.strip()}
    if unknown := wanted - {b.key for b in BENCHMARKS}:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(BASE_DIR))
    started = time.perf_counter()

    ensure_database(args)
    migrate(args)
    info = tenant_setup(args)
    pools = make_pools()
    if cleanup(args, vacuum=True):
        log("removed leftovers of an interrupted run")
    load_leads(args, info, pools)
    prewarm(args)
    (low, high), user_ids = id_ranges(args, info["tenant_id"])
    wrk = ensure_wrk(args)
    port, bare_port = free_port(), free_port()
    ctx = Context(
        args=args, dsn=_admin_dsn(args, args.database), host="127.0.0.1", port=port, bare_port=bare_port,
        user_ids=user_ids, api_key=info["api_key"],
        tenant_id=info["tenant_id"], tenant_slug=BENCH_SLUG, session_key=info["session_key"], min_id=low,
        max_id=high, search_words=pools.search_words, loadgen="wrk" if wrk else "python",
        mobile_base=random.randrange(0, 50) * 1_000_000,
    )
    ctx.cache.update(pools=pools, info=info, loadavg=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    server = start_server(args, port)
    bare_server = start_server(args, bare_port, settings="tools.benchsite.settings")
    rows: list[Row] = []
    try:
        wait_ready(ctx, server)
        wait_ready(ctx, bare_server, bare=True)
        for bench in BENCHMARKS:
            if wanted and bench.key not in wanted:
                continue
            log(f"running {bench.key}: {bench.title}")
            rows += bench.func(ctx)
    finally:
        stop_server(server)
        stop_server(bare_server)
        if not args.keep:
            cleanup(args, vacuum=True)
    notes = machine_notes(args, ctx)
    print()
    print(f"LeadCRM bench — {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} — {notes}")
    print()
    print(render_table(rows))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    (OUT_DIR / "last.json").write_text(json.dumps(
        {"notes": notes, "args": vars(args),
         "rows": [{**r.__dict__, "mark": r.mark} for r in rows]}, ensure_ascii=False, indent=2, default=str,
    ), encoding="utf-8")
    return 1 if args.strict and any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
