"""How fast intake can find "same company (fuzzy) + same contact name" among 1,000,000 leads of a
tenant, for the proposed keys and indexes, beside the naive trigram baseline (dev tooling).

    python -m tools.dedup_lookup_bench [--leads 1000000] [--lookups 1000] [--keep] [--reuse]

Uses the database named by DATABASE_URL and a table of its own, `dedup_bench_lead`, shaped like
leads_lead's matching columns (tenant_id, name, company, company_key, company_brand, name_key,
created_at), which it creates, fills with COPY and, unless --keep, drops again. The companies are
realistic Chinese names (brands of two to four characters from a wide pool, 60 cities, 40 trades,
the usual legal forms, written in the ways `tools.dedup_variants` writes them, a few in English);
contact names follow the real skew of surnames, so 张伟 and 王芳 are frequent.

The incoming leads are a mix: half are existing contacts with their company written another way
(abbreviated, Traditional, bracketed region, branch…), a quarter a brand one character different
(must not match), a quarter new. Each strategy answers all of them; `same_company` then decides
on the candidates, and the script checks every strategy finds what the pure matcher would.

Strategies, each with its own index:
- baseline: pg_trgm `company % x` over the full company names, then the contact name;
- keys (proposed): btree (tenant_id, company_brand COLLATE "C", name_key), one range per brand
  (equal, or extended by more characters) plus equality on each shorter brand it extends
  (`leads.matching.lookup_ranges`); the other column order is timed too;
- trigram on the core: pg_trgm `company_key % x` (company_key = brand + trade) and name_key.
The proposed look-up is also timed as one statement for a whole batch (unnest + LATERAL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from leads.matching import lookup_ranges, parse_company, person_name_key, same_company, same_person
from tools.dedup_variants import Company, Generator

TABLE = "dedup_bench_lead"
TENANT = 1
WINDOW_DAYS = 180

_BRAND_POOL = (
    "纷扬鼎瑞智华联汇合信天星辰新中明云德博恒泰达科启安远诺丰图嘉宏通金禾世创盛和凯奥亿锐鑫润腾航美佳捷力优众卓越骏鹏鸿旭"
    "晖耀弘正方汉唐威尚品蓝源坤乾光宇海峰诚银龙飞祥康舜璟麒迈拓展维泽东南北西平长永兴立志成国家万千百广大高华盈利富贵"
    "振宁昌隆泓蓓睿哲晟熙煜琪瑾瑜翔宸皓钧铭锦绣川江河湖山岳林森磐石玉晶辉灿粤沪京津渝苏浙皖闽赣鲁豫鄂湘桂琼蜀黔滇陕"
)
_CITIES = {
    "北京": "北京", "上海": "上海", "天津": "天津", "重庆": "重庆", "广州": "广东", "深圳": "广东", "东莞": "广东", "佛山": "广东",
    "杭州": "浙江", "宁波": "浙江", "温州": "浙江", "南京": "江苏", "苏州": "江苏", "无锡": "江苏", "成都": "四川", "武汉": "湖北",
    "西安": "陕西", "长沙": "湖南", "郑州": "河南", "济南": "山东", "青岛": "山东", "合肥": "安徽", "福州": "福建", "厦门": "福建",
    "沈阳": "辽宁", "大连": "辽宁", "昆明": "云南", "南昌": "江西", "太原": "山西", "石家庄": "河北", "哈尔滨": "黑龙江",
    "长春": "吉林", "南宁": "广西", "贵阳": "贵州", "兰州": "甘肃", "海口": "海南", "香港": "", "台北": "台湾",
}
_TRADES = [
    "科技", "网络科技", "信息技术", "软件", "电子商务", "医疗器械", "生物科技", "环保科技", "智能装备", "供应链管理", "数据服务",
    "新能源", "机械制造", "教育科技", "物流", "文化传媒", "建筑工程", "食品", "化工", "物业管理", "人力资源", "广告", "餐饮管理",
    "生物医药", "新材料", "国际贸易", "精密机械", "光电科技", "投资管理", "电子科技", "实业", "农业科技", "企业管理咨询",
    "汽车销售服务", "医药", "商贸", "电气", "工程技术", "装饰工程", "酒店管理",
]
_LEGAL = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
# Surnames with their weight (their share of the population, in per mille, roughly).
_SURNAMES = {
    "王": 71, "李": 70, "张": 68, "刘": 54, "陈": 45, "杨": 31, "黄": 22, "赵": 20, "吴": 20, "周": 19, "徐": 15, "孙": 15,
    "马": 14, "朱": 13, "胡": 12, "郭": 11, "何": 11, "高": 10, "林": 10, "罗": 9, "郑": 9, "梁": 8, "谢": 7, "宋": 6, "唐": 6,
    "许": 6, "韩": 6, "冯": 5, "邓": 5, "曹": 5, "彭": 5, "曾": 5, "肖": 5, "田": 5, "董": 5, "潘": 4, "袁": 4, "蔡": 4, "蒋": 4,
    "余": 4, "于": 4, "杜": 4, "叶": 4, "程": 4, "魏": 3, "苏": 3, "吕": 3, "丁": 3, "任": 3, "沈": 3, "欧阳": 1, "司马": 1,
}
_GIVEN_TEXT = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 涛 明 超 秀英 霞 平 刚 桂英 华 建华 建国 玉兰 秀兰 志强 海燕 丽娟 俊杰 子涵 "
    "梓萱 浩然 宇轩 思远 佳怡 欣妍 嘉懿 晓东 欣怡 雨欣 一诺 梓涵 宇航 博文 晨曦 文博 子轩 雅琪 诗涵 晓燕 春梅 红梅 立新 "
    "国强 永刚 海涛 志刚 德明 慧敏 婷婷 丹丹 晶晶 亮 斌 鹏 颖 倩 晨 瑶 琳 峰 凯 帆 宁 雪 蕾 昊 睿 辉 鑫 萍 燕 红 梅"
)
_GIVEN = _GIVEN_TEXT.split()
_GIVEN_WEIGHTS = [12 if len(g) == 1 else 3 for g in _GIVEN]  # single-character given names repeat the most (张伟)


@dataclass
class Incoming:
    name: str
    company: str
    expect_match: bool  # by construction; the pure matcher has the last word
    kind: str


class Data:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.forms = Generator(seed + 1)
        self.forms.rng = self.rng

    def brand(self) -> str:
        length = self.rng.choices([2, 3, 4], weights=[60, 30, 10])[0]
        return "".join(self.rng.choice(_BRAND_POOL) for _ in range(length))

    def company(self) -> Company:
        return Company(self.brand(), self.rng.choice(_TRADES), self.rng.choice(list(_CITIES)), self.rng.choice(_LEGAL))

    def person(self) -> str:
        surname = self.rng.choices(list(_SURNAMES), weights=list(_SURNAMES.values()))[0]
        return surname + self.rng.choices(_GIVEN, weights=_GIVEN_WEIGHTS)[0]

    def written(self, company: Company) -> str:
        """How a lead's company is written: mostly as registered, otherwise another way."""
        if self.rng.random() < 0.02:
            return f"{company.english} Co., Ltd."
        return company.canonical if self.rng.random() < 0.6 else self.forms.company_form(company)


def generate_rows(data: Data, *, leads: int, now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Company, str]]]:
    """The tenant's leads over the last year, and the contacts with a lead inside the window."""
    rows: list[tuple[Any, ...]] = []
    contacts: list[tuple[Company, str]] = []
    since = now - timedelta(days=WINDOW_DAYS)
    while len(rows) < leads:
        company = data.company()
        people = [data.person() for _ in range(data.rng.choice([1, 1, 2, 3]))]
        for _ in range(min(1 + int(data.rng.expovariate(1 / 4)), leads - len(rows))):
            name = data.rng.choice(people)
            written = data.written(company)
            parsed = parse_company(written)
            created = now - timedelta(days=data.rng.uniform(0, 365))
            rows.append((TENANT, name, written, parsed.core, parsed.brand, person_name_key(name), created))
            if created >= since:
                contacts.append((company, name))
    return rows, contacts


def incoming_leads(data: Data, contacts: Sequence[tuple[Company, str]], *, count: int) -> list[Incoming]:
    leads: list[Incoming] = []
    for _ in range(count):
        roll = data.rng.random()
        company, name = data.rng.choice(contacts)
        if roll < 0.5:
            form = data.rng.choice([
                f"{company.city}{company.brand}", f"{company.brand}{company.industry}", data.forms.company_form(company),
                data.forms.traditional(company.canonical), f"{company.brand}{company.industry}（{company.city}）{company.legal}",
            ])
            leads.append(Incoming(data.rng.choice([name, data.forms.person_form(name)]), form, expect_match=True, kind="same"))
        elif roll < 0.75:
            position = data.rng.randrange(len(company.brand))
            other_char = data.rng.choice([c for c in _BRAND_POOL if c != company.brand[position]])
            lookalike = Company(company.brand[:position] + other_char + company.brand[position + 1 :], company.industry, company.city, company.legal)
            leads.append(Incoming(name, lookalike.canonical, expect_match=False, kind="lookalike"))
        else:
            leads.append(Incoming(data.person(), data.written(data.company()), expect_match=False, kind="new"))
    return leads


# --------------------------------------------------------------------------------------------
# the strategies
# --------------------------------------------------------------------------------------------

BASELINE_SQL = f"""
    SELECT id, name, company FROM {TABLE}
    WHERE tenant_id = %(tenant)s AND created_at >= %(since)s AND company %% %(company)s AND name = %(name)s
"""

# Proposed: one statement for a whole batch (or one lead). Each key row is (i, name_key, lo, hi):
# the incoming lead's index, its name key, and a brand range: lo..hi is a brand and every stored
# brand that starts with it, or one shorter brand the incoming brand extends (lo = hi). Lists travel
# as JSON text, as intake's other look-ups do (Django binds parameters on the client, and a JSON
# string is one parameter however long the batch). `same_company` decides on what it returns.
KEYS_SQL = f"""
    SELECT k.i::int, l.id, l.name, l.company
    FROM ROWS FROM (
        jsonb_array_elements_text(%(i)s::jsonb), jsonb_array_elements_text(%(name_keys)s::jsonb),
        jsonb_array_elements_text(%(lo)s::jsonb), jsonb_array_elements_text(%(hi)s::jsonb)
    ) AS k(i, name_key, lo, hi)
    CROSS JOIN LATERAL (
        SELECT id, name, company FROM {TABLE}
        WHERE tenant_id = %(tenant)s AND company_brand <> '' AND company_brand BETWEEN k.lo AND k.hi
          AND name_key = k.name_key AND created_at >= %(since)s
        ORDER BY created_at, id LIMIT 50
    ) AS l
"""

CORE_TRGM_SQL = f"""
    SELECT id, name, company FROM {TABLE}
    WHERE tenant_id = %(tenant)s AND created_at >= %(since)s AND company_key %% %(core)s AND name_key = %(name_key)s
"""


def keys_params(leads: Sequence[Incoming]) -> dict[str, str]:
    params: dict[str, list[Any]] = {"i": [], "name_keys": [], "lo": [], "hi": []}
    for index, lead in enumerate(leads):
        if not (name_key := person_name_key(lead.name)):
            continue
        for lo, hi in lookup_ranges(lead.company):
            params["i"].append(index)
            params["name_keys"].append(name_key)
            params["lo"].append(lo)
            params["hi"].append(hi)
    return {name: json.dumps(values, ensure_ascii=False) for name, values in params.items()}


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_each(conn: psycopg.Connection[Any], leads: Sequence[Incoming], run: Callable[[Incoming], list[tuple[Any, ...]]]) -> tuple[list[float], list[bool]]:
    times, found = [], []
    for lead in leads:
        started = time.perf_counter()
        rows = run(lead)
        times.append((time.perf_counter() - started) * 1000)
        found.append(any(same_person(lead.name, row[1]) and same_company(lead.company, row[2]) for row in rows))
    return times, found


def brute_force(rows: Sequence[tuple[Any, ...]], leads: Sequence[Incoming], *, since: datetime) -> list[bool]:
    """For each incoming lead, whether the pure matcher accepts any lead of the window: every
    stored lead with its name key, compared with `same_company` (what the index must not miss)."""
    by_name: dict[str, list[str]] = {}
    for _tenant, _name, company, _core, _brand, name_key, created in rows:
        if created >= since:
            by_name.setdefault(name_key, []).append(company)
    return [
        bool(key := person_name_key(lead.name)) and any(same_company(lead.company, company) for company in by_name.get(key, ()))
        for lead in leads
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the table afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the table left by --keep")
    parser.add_argument("--only", default="baseline,keys,keys-name-first,core", help="strategies to time, comma-separated")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("set DATABASE_URL", file=sys.stderr)
        return 2
    data = Data(args.seed)
    now = datetime.now(UTC)
    since = now - timedelta(days=WINDOW_DAYS)
    started = time.perf_counter()
    rows, contacts = generate_rows(data, leads=args.leads, now=now)
    print(f"generated {len(rows):,} leads in {time.perf_counter() - started:.0f} s")
    leads = incoming_leads(data, contacts, count=args.lookups)
    truth = brute_force(rows, leads, since=since)

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        if not args.reuse:
            load(conn, rows)
        conn.execute("SET pg_trgm.similarity_threshold = 0.3")  # the default, stated
        for lead in leads[:50]:  # warm the caches as a running server would be
            conn.execute(BASELINE_SQL, {"tenant": TENANT, "since": since, "company": lead.company, "name": lead.name}).fetchall()

        def baseline(lead: Incoming) -> list[tuple[Any, ...]]:
            return conn.execute(BASELINE_SQL, {"tenant": TENANT, "since": since, "company": lead.company, "name": lead.name}).fetchall()

        client = psycopg.ClientCursor(conn)  # bound on the client, as Django binds

        def keys(lead: Incoming) -> list[tuple[Any, ...]]:
            rows = client.execute(KEYS_SQL, {"tenant": TENANT, "since": since, **keys_params([lead])}).fetchall()
            return [row[1:] for row in rows]

        def core_trgm(lead: Incoming) -> list[tuple[Any, ...]]:
            parsed = parse_company(lead.company)
            return conn.execute(CORE_TRGM_SQL, {"tenant": TENANT, "since": since, "core": parsed.core, "name_key": person_name_key(lead.name)}).fetchall()

        print(f"\n{args.lookups} look-ups among {len(rows):,} leads of one tenant (within {WINDOW_DAYS} days); "
              f"{sum(lead.kind == 'same' for lead in leads)} existing contacts written another way, "
              f"{sum(lead.kind == 'lookalike' for lead in leads)} one-character look-alikes, {sum(lead.kind == 'new' for lead in leads)} new")
        print(f"  {'strategy':<50} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  found (verified by same_company)")
        results: dict[str, list[bool]] = {}
        proposed, name_first = f"{TABLE}_keys", f"{TABLE}_keys_name_first"
        strategies: list[tuple[str, str, Callable[[Incoming], list[tuple[Any, ...]]], list[str], list[str]]] = [
            ("baseline", "baseline: company % x over full names", baseline, [], []),
            # brand first: the same index serves the search tool by company alone (no name)
            ("keys", "keys: btree (tenant, brand, name_key) [proposed]", keys, [], []),
            ("keys-name-first", "keys: btree (tenant, name_key, brand)", keys,
             [f"CREATE INDEX {name_first} ON {TABLE} (tenant_id, name_key, company_brand) WHERE company_brand <> ''",
              f"DROP INDEX {proposed}", f"ANALYZE {TABLE}"],
             [f"CREATE INDEX {proposed} ON {TABLE} (tenant_id, company_brand, name_key) WHERE company_brand <> ''",
              f"DROP INDEX {name_first}", f"ANALYZE {TABLE}"]),
            ("core", "trigram over the core (company_key % x)", core_trgm, [], []),
        ]
        for name, label, run, setup, teardown in strategies:
            if name not in args.only.split(","):
                continue
            for statement in setup:
                conn.execute(statement)
            for lead in leads[:50]:
                run(lead)
            times, found = time_each(conn, leads, run)
            results[name] = found
            print(f"  {label:<50} {statistics.median(times):8.2f} {percentile(times, 0.95):8.2f} {max(times):8.2f}  {sum(found)}")
            for statement in teardown:
                conn.execute(statement)

        for size in (100, 1000):
            batch_times = []
            for _ in range(5):
                for start in range(0, len(leads), size):
                    params = keys_params(leads[start : start + size])
                    began = time.perf_counter()
                    client.execute(KEYS_SQL, {"tenant": TENANT, "since": since, **params}).fetchall()
                    batch_times.append((time.perf_counter() - began) * 1000)
            print(f"  keys, one statement per batch of {size:<5}              {statistics.median(batch_times):8.2f} "
                  f"{percentile(batch_times, 0.95):8.2f} ms a batch ({statistics.median(batch_times) / size:.3f} ms a lead)")

        keys_found = results.get("keys") or [bool(rows) for rows in (keys(lead) for lead in leads)]
        missed = sum(t and not f for t, f in zip(truth, keys_found, strict=True))
        print(f"\n  duplicates the pure matcher finds by brute force over the window: {sum(truth)} "
              f"(of {sum(lead.kind == 'same' for lead in leads)} planted; "
              f"the rest are written past recognition, e.g. in English against Chinese); the proposed look-up misses {missed} of them; "
              f"look-alikes it matched: {sum(f for f, lead in zip(keys_found, leads, strict=True) if lead.kind == 'lookalike')}")
        for lead, is_found in zip(leads, keys_found, strict=True):
            if is_found and lead.kind != "same":
                rows_found = [row for row in keys(lead) if same_person(lead.name, row[1]) and same_company(lead.company, row[2])]
                print(f"    a {lead.kind} lead matched an existing one: {lead.name} {lead.company} ~ {rows_found[0][1]} {rows_found[0][2]}")
        plan = client.execute("EXPLAIN " + KEYS_SQL, {"tenant": TENANT, "since": since, **keys_params(leads[:1])}).fetchall()
        print("\n  plan of the proposed look-up:\n    " + "\n    ".join(row[0] for row in plan))
        if not args.keep:
            conn.execute(f"DROP TABLE {TABLE}")
    return 0


def load(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    started = time.perf_counter()
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"""
        CREATE TABLE {TABLE} (
            id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, name text NOT NULL, company text NOT NULL,
            company_key text NOT NULL, company_brand text COLLATE "C" NOT NULL, name_key text NOT NULL,
            created_at timestamptz NOT NULL)
    """)
    with conn.cursor() as cursor, cursor.copy(
        f"COPY {TABLE} (tenant_id, name, company, company_key, company_brand, name_key, created_at) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    # a second tenant, so every look-up has to keep to its own
    conn.execute(f"INSERT INTO {TABLE} (tenant_id, name, company, company_key, company_brand, name_key, created_at) "
                 f"SELECT 2, name, company, company_key, company_brand, name_key, created_at FROM {TABLE} WHERE id % 10 = 0")
    print(f"loaded in {time.perf_counter() - started:.0f} s; indexing…")
    started = time.perf_counter()
    conn.execute(f"CREATE INDEX {TABLE}_keys ON {TABLE} (tenant_id, company_brand, name_key) WHERE company_brand <> ''")
    conn.execute(f"CREATE INDEX {TABLE}_company_trgm ON {TABLE} USING gin (company gin_trgm_ops)")
    conn.execute(f"CREATE INDEX {TABLE}_core_trgm ON {TABLE} USING gin (company_key gin_trgm_ops)")
    conn.execute(f"VACUUM ANALYZE {TABLE}")
    sizes = conn.execute(
        "SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE %s ORDER BY 1",
        (f"{TABLE}%",),
    ).fetchall()
    print(f"indexed in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{name} {size}" for name, size in sizes))


if __name__ == "__main__":
    sys.exit(main())
