"""Cleansing's pure checks (SPEC §3): validity, sensitive words, blacklists. No database."""

from __future__ import annotations

import codecs
import gc
import os
import random
import threading
import time
from collections import Counter

import pytest
from django.utils import translation
from faker import Faker

from leads.cleansing import (
    ALLOW_CATEGORY,
    BLACKLIST_KINDS,
    BUILTIN_SENSITIVE_WORDS,
    SENSITIVE_CATEGORIES,
    BlacklistMatcher,
    ListEntryError,
    ScanText,
    SensitiveWordMatcher,
    blacklist_entry_normalise,
    blacklist_file_parse,
    blacklist_matcher_for,
    builtin_sensitive_words,
    clear_matcher_caches,
    has_contact,
    normalise_for_matching,
    sensitive_word_matcher_for,
    sensitive_word_normalise,
    sensitive_words_found,
    validity_reasons,
)
from leads.fields import SCANNED_FIELD_NAMES
from leads.normalization import normalise_lead


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_matcher_caches()
    yield
    clear_matcher_caches()


@pytest.fixture(scope="module")
def matcher() -> SensitiveWordMatcher:
    return SensitiveWordMatcher()


def found(matcher: SensitiveWordMatcher, text: str) -> list[str]:
    return [match.word for match in matcher.match_text(text)]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- validity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reasons"),
    [
        ({"name": "张伟", "company": "纷扬科技"}, ["no_contact"]),
        ({"name": "张伟", "mobile": "无", "wechat": "-"}, ["no_contact"]),
        ({"mobile": "13800138000"}, ["invalid.mobile"]),
        ({"mobile": "13952816437", "email": "test@test.com"}, ["invalid.email"]),
        ({"mobile": "12345678901", "email": "a@a.com"}, ["invalid.mobile", "invalid.email"]),
        ({"wechat": "zhangwei_2024"}, []),
        ({"mobile": "13952816437", "phone": "010-88888888"}, []),  # a bad landline alone holds nothing back
    ],
)
def test_validity_reasons(raw, reasons):
    assert validity_reasons(normalise_lead(raw)) == reasons


def test_validity_reasons_with_landlines_when_asked():
    assert validity_reasons(normalise_lead({"mobile": "13952816437", "phone": "010-88888888"}), include_phone=True) == [
        "invalid.phone"
    ]


def test_has_contact_on_raw_fields_ignores_placeholders():
    assert not has_contact({"mobile": "无", "email": "", "wechat": None})
    assert has_contact({"wechat": "zhangwei_2024"})


# --- the built-in lexicon --------------------------------------------------------------------


def test_builtin_lexicon_has_a_few_hundred_entries_in_every_category():
    counts = Counter(entry.category for entry in builtin_sensitive_words())
    print("\nbuilt-in lexicon:", dict(counts))  # noqa: T201 (the report)
    assert set(counts) == {*SENSITIVE_CATEGORIES, ALLOW_CATEGORY}
    assert all(counts[category] >= 15 for category in SENSITIVE_CATEGORIES)
    assert sum(counts[category] for category in SENSITIVE_CATEGORIES) >= 300
    assert len(BUILTIN_SENSITIVE_WORDS) == sum(counts[category] for category in SENSITIVE_CATEGORIES)


def test_builtin_entries_are_written_once_in_their_matching_form():
    """Each word appears once, already simplified and lower-case (so the file reads as it matches)."""
    words = [entry.word for entry in builtin_sensitive_words()]
    assert [word for word, count in Counter(words).items() if count > 1] == []
    assert [word for word in words if normalise_for_matching(word) != word] == []


@pytest.mark.parametrize(
    ("text", "word", "category"),
    [
        ("澳门博彩娱乐有限公司", "博彩", "gambling"),
        ("线上赌场 真人荷官", "赌场", "gambling"),
        ("best online casino bonus", "casino", "gambling"),
        ("同城约炮 裸聊", "约炮", "pornography"),
        ("Cheap sex chat here", "sex", "pornography"),
        ("刷单兼职招聘", "刷单", "fraud"),
        ("征信修复 黑户可贷", "征信修复", "fraud"),
        ("可代开发票 量大从优", "代开发票", "invoice"),
        ("增值税发票代开", "增值税发票代开", "invoice"),
        ("出售枪支 子弹", "枪支", "weapons"),
        ("ak47 for sale", "ak47", "weapons"),
        ("冰毒 K粉 货到付款", "冰毒", "drugs"),
        ("cheap cocaine", "cocaine", "drugs"),
        ("法轮大法好", "法轮大法", "political"),
        ("免费翻墙软件", "翻墙软件", "political"),
        ("你个傻逼", "傻逼", "profanity"),
        ("what the fuck", "fuck", "profanity"),
    ],
)
def test_builtin_words_are_found(matcher, text, word, category):
    matches = {(match.word, match.category) for match in matcher.match_text(text)}
    assert (word, category) in matches


@pytest.mark.parametrize(
    "text",
    [
        # Latin words inside other words (the Scunthorpe problem)
        "Essex", "Middlesex Hospital", "Sussex University", "Sextant Ltd", "Anne Sexton", "analysis", "Data Analyst",
        "Canal Street", "Cockburn & Co", "Hancock", "Peacock Inc", "cocktail bar", "Scunthorpe", "Matsushita",
        "Shitake Foods", "Dickens", "assassin", "glass", "Cumming", "therapist", "Methodist Hospital",
        "Lsdxyz", "Pussycat Dolls", "Bitchin Sauce", "meteor", "Glockenspiel", "escort vessel", "marijuanas",
        # Chinese words that hold a listed word across a word boundary
        "特色情况介绍", "出色情商", "角色情感", "景色情调", "手枪钻 五金工具", "天津大麻花", "鸦片战争纪念馆",
        "反洗钱系统", "毒品检测试剂", "吸毒检测", "高仿真植物", "做爱心公益", "叫做爱因斯坦",
        # ordinary business text next to listed words
        "需要开发票", "开具增值税专用发票", "杀毒软件", "焊枪", "喷枪", "彩票站", "棋牌室", "上门服务", "个性服务",
        "生产性服务业", "进出口交易会", "今日你好", "以下注意事项", "推荐股票", "现代考古", "平台独家代理",
        "新疆独特的气候", "香港独资企业", "违反共同约定", "长春药业", "外挂式空调", "私服穿搭", "大股东套现",
        "成人教育视频课程", "防偷拍", "工业大麻", "北京纷扬科技有限公司",
        # a separator between two words is not a word spaced out
        "张博 彩虹科技", "3樓 鳳山市", "联系人：李博，彩虹公司",
    ],
)
def test_ordinary_text_is_not_flagged(matcher, text):
    assert found(matcher, text) == []


def test_generated_names_companies_jobs_and_addresses_are_not_flagged(matcher):
    """Thousands of realistic names, companies, job titles and addresses from four locales."""
    flagged = []
    for locale in ("zh_CN", "zh_TW", "en_US", "en_GB"):
        fake = Faker(locale)
        fake.seed_instance(1)
        for _ in range(3000):
            lead = {"name": fake.name(), "company": fake.company(), "title": fake.job(), "notes": fake.address()}
            if matches := matcher.match(lead):
                flagged.append((lead, [match.word for match in matches]))
    assert flagged == []


@pytest.mark.parametrize(
    "text",
    [
        "代 开 发 票", "代-开-发-票", "代.开.发.票", "代_开_发_票", "代*开*发*票", "代😀开😀发😀票", "代，开，发，票",
        "代\u200b开\u200b发\u200b票", "可代开 发票，请联系", "代開發票", "代開发票", "代　开　发　票",
        "代\u00ad开发票",
    ],
)
def test_evasions_of_a_chinese_word_are_found(matcher, text):
    assert "代开发票" in found(matcher, text)


@pytest.mark.parametrize("text", ["FUCK", "ＦＵＣＫ", "F\u200bUCK", "fu\u00adck", "(fuck)", "fuck!!!", "约fuck"])
def test_latin_words_are_found_in_any_case_width_or_with_invisible_characters(matcher, text):
    assert found(matcher, text) == ["fuck"]


def test_mixed_entries_need_a_boundary_on_their_latin_end(matcher):
    assert found(matcher, "卖K粉") == ["k粉"]
    assert found(matcher, "PK粉丝团") == []


def test_a_match_names_its_field_and_no_match_spans_two_fields(matcher):
    lead = {"name": "张三", "company": "澳门博彩娱乐有限公司", "title": "代开", "notes": "发票 量大从优"}
    assert [(match.word, match.field) for match in matcher.match(lead)] == [("博彩", "company")]


def test_a_word_found_twice_in_a_field_is_reported_once(matcher):
    assert len(matcher.match({"notes": "赌场赌场 赌场"})) == 1


def test_tenant_words_join_the_builtin_ones():
    matcher = SensitiveWordMatcher(["竞品公司", ("Acme", "competitor"), ("  ", "custom")])
    assert {(match.word, match.category, match.is_builtin) for match in matcher.match({"notes": "来自竞品公司 acme 赌场"})} == {
        ("竞品公司", "custom", False),
        ("Acme", "competitor", False),
        ("赌场", "gambling", True),
    }


def test_a_tenant_can_allow_a_builtin_word_or_leave_the_builtin_list_out():
    pharmacy = SensitiveWordMatcher([("吗啡", "custom"), ("鸦片", ALLOW_CATEGORY)])
    assert found(pharmacy, "鸦片 吗啡") == ["吗啡"]
    assert found(SensitiveWordMatcher(["竞品"], include_builtin=False), "赌场 竞品") == ["竞品"]


def test_sensitive_words_found_keeps_its_old_signature():
    fields = {"name": "张三", "notes": "可代开发票", "company": "特色情况研究所"}
    assert sensitive_words_found(fields, BUILTIN_SENSITIVE_WORDS) == ["代开发票"]
    assert sensitive_words_found(fields, ["研究所", "不在"]) == ["研究所"]


def test_scanned_fields_come_from_the_field_registry(matcher):
    assert matcher.fields == SCANNED_FIELD_NAMES
    assert matcher.match({"province": "赌场省", "source": "赌场"}) == []  # not scanned fields


@pytest.mark.parametrize(
    ("word", "stored"),
    [("  代開發票 ", "代开发票"), ("ＡＣＭＥ", "acme"), ("代 开 发 票", "代开发票"), ("k粉", "k粉")],
)
def test_sensitive_word_normalise(word, stored):
    assert sensitive_word_normalise(word) == stored


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("", "The entry is empty"),
        ("赌", "'赌' is too short: give at least two characters"),
        ("a!", "'a!' is too short"),
        ("赌" * 101, "is too long: at most 100 characters"),
    ],
)
def test_sensitive_word_normalise_says_what_to_fix(word, message):
    with translation.override("en"), pytest.raises(ListEntryError) as raised:
        sensitive_word_normalise(word)
    assert message in raised.value.message


def test_a_list_of_100000_words_builds_in_seconds_and_matches_in_microseconds():
    """The issue's bad input: a tenant list of 100,000 entries. Prints build time, memory and the
    cost a lead (a timing report, not a timed assertion)."""
    rnd = random.Random(3)
    fake = Faker("zh_CN")
    fake.seed_instance(3)
    words: list[str | tuple[str, str]] = []
    for _ in range(100_000):
        kind = rnd.random()
        if kind < 0.6:
            words.append("".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(rnd.randint(2, 6))))
        elif kind < 0.9:
            words.append("".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(4, 12))))
        else:
            words.append((fake.catch_phrase() + fake.company_suffix(), "custom"))
    SensitiveWordMatcher()  # the built-in list and tables, loaded once per process anyway
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    big = SensitiveWordMatcher(words)
    build_seconds = time.perf_counter() - started
    gc.collect()
    held_mb = rss_mb() - before

    needle = words[12345] if isinstance(words[12345], str) else words[12345][0]
    assert needle in [match.word for match in big.match({"notes": f"备注 {needle} 完"})]
    leads = [
        normalise_lead({"name": fake.name(), "company": fake.company(), "title": fake.job(), "email": fake.email(),
                        "notes": fake.sentence() if i % 2 else "", "campaign": "春季展会"}).fields
        for i in range(1000)
    ]
    builtin = SensitiveWordMatcher()
    timings = {}
    for label, current in (("built-in", builtin), ("built-in + 100k", big)):
        started = time.perf_counter()
        for _ in range(3):
            for lead in leads:
                current.match(lead)
        timings[label] = (time.perf_counter() - started) / (3 * len(leads)) * 1e6
    print(  # noqa: T201 (the report)
        f"\n100k-word list: {big.size} patterns, built in {build_seconds:.2f} s, holding {held_mb:.0f} MB; "
        f"match a lead: built-in {timings['built-in']:.1f} µs, with 100k {timings['built-in + 100k']:.1f} µs"
    )
    assert big.size > 90_000


# --- per-tenant caches -----------------------------------------------------------------------


def test_a_tenants_matcher_is_built_once_per_version():
    loads = []

    def load():
        loads.append(1)
        return ["竞品"]

    first = sensitive_word_matcher_for(tenant_id=1, version=1, load_words=load)
    assert sensitive_word_matcher_for(tenant_id=1, version=1, load_words=load) is first
    assert len(loads) == 1
    second = sensitive_word_matcher_for(tenant_id=1, version=2, load_words=lambda: ["对手"])
    assert second is not first
    assert found(second, "竞品 对手") == ["对手"]
    assert found(sensitive_word_matcher_for(tenant_id=2, version=1, load_words=list), "竞品 对手 赌场") == ["赌场"]


def test_racing_requests_build_a_tenants_matcher_once():
    loads = []

    def slow_load():
        loads.append(1)
        time.sleep(0.05)
        return ["竞品"]

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(sensitive_word_matcher_for(tenant_id=7, version=1, load_words=slow_load)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len({id(result) for result in results}) == 1


def test_the_cache_lets_go_of_the_least_recently_used_lists_past_its_bound():
    from leads.cleansing import _TenantCache

    cache: _TenantCache[list[str]] = _TenantCache(max_patterns=10, max_tenants=100)
    for tenant in range(4):
        cache.get(tenant, 1, lambda: ["x"] * 4, len)
    rebuilt: list[int] = []

    def build(tenant: int) -> list[str]:
        rebuilt.append(tenant)
        return ["x"] * 4

    cache.get(3, 1, lambda: build(3), len)
    cache.get(0, 1, lambda: build(0), len)
    assert rebuilt == [0]  # 3 was kept, 0 had been let go
    assert cache.get(9, 1, lambda: ["x"] * 50, len) == ["x"] * 50  # a list larger than the bound is still served


# --- blacklist entries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("phone", "139 5281 6437", "+8613952816437"),
        ("phone", "+86-139-5281-6437", "+8613952816437"),
        ("phone", "１３９５２８１６４３７", "+8613952816437"),
        ("phone", "010-62345578", "+861062345578"),
        ("phone", "13800138000", "+8613800138000"),  # a fake number can be blacklisted
        ("email", " Zhang.Wei@QQ.com ", "zhang.wei@qq.com"),
        ("email_domain", "QQ.COM", "qq.com"),
        ("email_domain", "@spam.cn", "spam.cn"),
        ("email_domain", "*.spam.cn", "spam.cn"),
        ("company", " 北京纷扬科技有限公司 ", "北京纷扬科技有限公司"),
        ("keyword", "竞品", "竞品"),
        ("keyword", "ＡＣＭＥ", "acme"),
    ],
)
def test_blacklist_entry_normalise(kind, value, stored):
    assert blacklist_entry_normalise(kind, value) == stored


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("phone", "abc", "'abc' is not a phone number: give a mobile like 13812345678 or a landline with its area code like 010-12345678"),
        ("phone", "12345", "'12345' is not a phone number"),
        ("email", "zhang@", "'zhang@' is not an e-mail address: give it like name@example.com"),
        ("email", "qq.com", "'qq.com' is an e-mail domain, not an address: to block the whole domain, add it as an e-mail domain"),
        ("email_domain", "@qq", "'@qq' is not an e-mail domain: give it like qq.com"),
        ("email_domain", "zhang@qq.com", "'zhang@qq.com' is an e-mail address: to block the whole domain give qq.com"),
        ("company", "（北京）", "'(北京)' is not a company name: nothing is left once"),
        ("keyword", "赌", "'赌' is too short"),
        ("keyword", "  ", "The entry is empty"),
        ("mobile", "13952816437", "Unknown blacklist kind 'mobile': use phone, email, email_domain, company or keyword"),
        ("company", "公" * 201, "is too long: at most 200 characters"),
    ],
)
def test_blacklist_entry_normalise_says_what_to_fix(kind, value, message):
    with translation.override("en"), pytest.raises(ListEntryError) as raised:
        blacklist_entry_normalise(kind, value)
    assert message in raised.value.message


def test_blacklist_errors_read_in_chinese_by_default():
    with translation.override("zh-hans"), pytest.raises(ListEntryError) as raised:
        blacklist_entry_normalise("phone", "abc")
    assert raised.value.message.startswith("“abc”不是电话号码")


# --- blacklist files -------------------------------------------------------------------------

MIXED_FILE = """类型,内容
手机,139 5281 6437
邮箱,Zhang.Wei@QQ.com
域名,@spam.cn
公司,"北京纷扬科技有限公司"
关键词,竞品
company,"Acme, Inc."
phone,abc
"""


@pytest.mark.parametrize(
    "data",
    [
        MIXED_FILE.encode("utf-8"),
        codecs.BOM_UTF8 + MIXED_FILE.encode("utf-8"),
        MIXED_FILE.encode("gbk"),
        MIXED_FILE.replace("\n", "\r\n").encode("gb18030"),
        codecs.BOM_UTF16_LE + MIXED_FILE.encode("utf-16-le"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030-crlf", "utf-16-bom"],
)
def test_blacklist_file_in_every_encoding(data):
    with translation.override("en"):
        parsed = blacklist_file_parse(data)
    assert [(entry.line, entry.kind, entry.value) for entry in parsed.entries] == [
        (2, "phone", "+8613952816437"),
        (3, "email", "zhang.wei@qq.com"),
        (4, "email_domain", "spam.cn"),
        (5, "company", "北京纷扬科技有限公司"),
        (6, "keyword", "竞品"),
        (7, "company", "Acme, Inc."),
    ]
    assert [(error.line, error.text) for error in parsed.errors] == [(8, "phone,abc")]
    assert parsed.errors[0].message.startswith("'abc' is not a phone number")


def test_blacklist_file_of_one_kind_with_comments_blank_lines_and_duplicates():
    data = "# 2024 年投诉名单\n\n13952816437\n139-5281-6437\nabc\n  \n18601234599\n".encode()
    parsed = blacklist_file_parse(data, kind="phone")
    assert [(entry.line, entry.value) for entry in parsed.entries] == [(3, "+8613952816437"), (7, "+8618601234599")]
    assert [error.line for error in parsed.errors] == [5]
    assert parsed.duplicate_count == 1


def test_blacklist_file_recognises_phones_emails_and_domains_and_asks_for_the_rest():
    data = "13952816437\nzhang@qq.com\n@spam.cn\nspam2.cn\n纷扬科技\nphone\t010-62345578\n手机，18601234599\n".encode()
    with translation.override("en"):
        parsed = blacklist_file_parse(data)
    assert [(entry.kind, entry.value) for entry in parsed.entries] == [
        ("phone", "+8613952816437"),
        ("email", "zhang@qq.com"),
        ("email_domain", "spam.cn"),
        ("email_domain", "spam2.cn"),
        ("phone", "+861062345578"),
        ("phone", "+8618601234599"),
    ]
    assert [error.line for error in parsed.errors] == [5]
    assert parsed.errors[0].message.startswith("Cannot tell what kind of entry '纷扬科技' is: write it as 'company,NAME'")


def test_blacklist_file_of_tab_separated_rows_reads_each_rows_kind():
    # What Excel's "Unicode text" export writes: a header, then kind<TAB>value rows.
    data = "类型\t内容\n公司\t北京纷扬 科技有限公司\nkeyword\t代开 发票\n手机\t139 5281 6437\n".encode("utf-16")
    parsed = blacklist_file_parse(data)
    assert parsed.errors == []
    assert [(entry.line, entry.kind, entry.original) for entry in parsed.entries] == [
        (2, "company", "北京纷扬 科技有限公司"),
        (3, "keyword", "代开 发票"),
        (4, "phone", "139 5281 6437"),
    ]


def test_blacklist_file_that_is_not_text_is_refused_whole():
    with translation.override("en"), pytest.raises(ListEntryError, match="The file is not text"):
        blacklist_file_parse(b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary")
    with translation.override("en"), pytest.raises(ListEntryError, match="encoding is not recognised"):
        blacklist_file_parse(b"\x81\x30\xff\xfe\x80")


def test_blacklist_file_stops_past_its_limit():
    data = "\n".join(f"keyword,词{i:05d}" for i in range(30)).encode()
    parsed = blacklist_file_parse(data, max_entries=20)
    assert len(parsed.entries) == 20
    assert parsed.errors[-1].line == 21


def test_blacklist_file_with_an_unknown_kind_is_refused():
    with pytest.raises(ListEntryError):
        blacklist_file_parse(b"13952816437", kind="mobile")


# --- blacklist matching ----------------------------------------------------------------------

ENTRIES = [
    ("phone", "+8613952816437"),
    ("phone", "+861062345578"),
    ("email", "boss@rival.com"),
    ("email_domain", "spam.cn"),
    ("company", "北京纷扬科技有限公司"),
    ("keyword", "竞品"),
    ("keyword", "acme"),
]


@pytest.mark.parametrize(
    ("raw", "hits"),
    [
        ({"mobile": "139 5281 6437"}, [("phone", "+8613952816437", "mobile")]),
        ({"phone": "(010) 6234-5578"}, [("phone", "+861062345578", "phone")]),
        ({"mobile": "13952816438"}, []),
        ({"email": "BOSS@Rival.com"}, [("email", "boss@rival.com", "email")]),
        ({"email": "sales@rival.com"}, []),
        ({"email": "a@spam.cn"}, [("email_domain", "spam.cn", "email")]),
        ({"email": "a@mail.spam.cn"}, [("email_domain", "spam.cn", "email")]),
        ({"email": "a@notspam.cn"}, []),
        ({"company": "纷扬科技（北京）有限公司"}, [("company", "北京纷扬科技有限公司", "company")]),
        ({"company": "北京纷享科技有限公司"}, []),
        ({"notes": "合作方 竞 品", "title": "ACME buyer"}, [("keyword", "acme", "title"), ("keyword", "竞品", "notes")]),
        ({"company": "Acmeware"}, []),
    ],
)
def test_blacklist_matcher(raw, hits):
    matcher = BlacklistMatcher(ENTRIES)
    assert [(hit.kind, hit.entry, hit.field) for hit in matcher.match(normalise_lead(raw).fields)] == hits


def test_blacklist_reasons_are_the_api_codes_in_a_fixed_order():
    matcher = BlacklistMatcher(ENTRIES)
    fields = normalise_lead({"mobile": "13952816437", "email": "x@spam.cn", "notes": "竞品", "company": "纷扬科技"}).fields
    assert matcher.reasons(fields) == ["blacklist.phone", "blacklist.email_domain", "blacklist.company", "blacklist.keyword"]
    assert BlacklistMatcher([]).reasons(fields) == []
    assert BLACKLIST_KINDS == ("phone", "email", "email_domain", "company", "keyword")


def test_the_company_normaliser_is_one_swappable_function():
    def core_name(company: str) -> str:
        return company.replace("北京", "").replace("有限公司", "").replace("科技", "")

    matcher = BlacklistMatcher([("company", "北京纷扬科技有限公司")], company_normaliser=core_name)
    assert [hit.entry for hit in matcher.match({"company": "纷扬"})] == ["北京纷扬科技有限公司"]
    assert BlacklistMatcher([("company", "北京纷扬科技有限公司")]).match({"company": "纷扬"}) == []


def test_one_scan_text_serves_both_matchers():
    fields = normalise_lead({"notes": "竞品 可代开发票"}).fields
    scan = ScanText.of_fields(fields)
    assert [hit.entry for hit in BlacklistMatcher(ENTRIES).match(fields, scan=scan)] == ["竞品"]
    assert [match.word for match in SensitiveWordMatcher().match(fields, scan=scan)] == ["代开发票"]


def test_a_tenants_blacklist_matcher_is_cached_per_version():
    loads = []

    def load():
        loads.append(1)
        return ENTRIES

    first = blacklist_matcher_for(tenant_id=1, version="v1", load_entries=load)
    assert blacklist_matcher_for(tenant_id=1, version="v1", load_entries=load) is first
    assert len(loads) == 1
    assert blacklist_matcher_for(tenant_id=1, version="v2", load_entries=list).match({"email": "boss@rival.com"}) == []


def test_blacklist_matcher_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown blacklist kind"):
        BlacklistMatcher([("mobile", "+8613952816437")])


# --- cost per lead (a report, not an assertion) ----------------------------------------------


def test_cost_per_lead_report():
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    raws = [
        {"name": fake.name(), "mobile": fake.phone_number(), "email": fake.email(), "company": fake.company(),
         "title": fake.job(), "industry": "软件", "campaign": "2024春季展会", "wechat": fake.user_name(),
         "notes": fake.sentence() if i % 2 else ""}
        for i in range(2000)
    ]
    normalised = [normalise_lead(raw) for raw in raws]
    fields = [item.fields for item in normalised]
    sensitive = SensitiveWordMatcher()
    blacklist = BlacklistMatcher(
        [("phone", f"+86139{i:08d}") for i in range(0, 10**8, 10_000)]
        + [("email_domain", f"spam{i}.cn") for i in range(1000)]
        + [("company", fake.company()) for _ in range(1000)]
        + [("keyword", f"竞品{i}") for i in range(1000)]
    )

    def per_lead(function, items) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for item in items:
                function(item)
            best = min(best, time.perf_counter() - started)
        return best / len(items) * 1e6

    report = {
        "normalise_lead (all of it)": per_lead(normalise_lead, raws),
        "validity_reasons": per_lead(validity_reasons, normalised),
        "sensitive words (built-in)": per_lead(sensitive.match, fields),
        "blacklist (13k entries, incl. keywords)": per_lead(blacklist.match, fields),
        "both sharing one ScanText": per_lead(
            lambda lead: (scan := ScanText.of_fields(lead), sensitive.match(lead, scan=scan), blacklist.match(lead, scan=scan)),
            fields,
        ),
    }
    print("\ncost per lead (µs): "  # noqa: T201 (the report)
           + ", ".join(f"{label} {cost:.1f}" for label, cost in report.items()))
    assert all(cost > 0 for cost in report.values())
