"""Editing the cleansing rules: each change bumps the versions the matcher caches are keyed by,
is audited, and a bad entry or file changes nothing."""

from __future__ import annotations

import random
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.cleansing import sensitive_word_normalise
from leads.cleansing_services import (
    MAX_SENSITIVE_WORDS,
    CleansingEntryExists,
    ListImportRefused,
    blacklist_entry_add,
    blacklist_entry_delete,
    blacklist_import,
    cleansing_policy_defaults_install,
    cleansing_policy_update,
    sensitive_word_add,
    sensitive_word_delete,
    sensitive_word_import,
)
from leads.models import BlacklistEntry, CleansingPolicy, SensitiveWord
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db


def versions() -> tuple[int, int, int]:
    policy = CleansingPolicy.objects.get()
    return policy.version, policy.blacklist_version, policy.words_version


def test_a_new_tenant_gets_the_default_policy(in_tenant_a):
    policy = CleansingPolicy.objects.get()
    assert (policy.sensitive_action, policy.use_builtin_words, policy.version) == ("quarantine", True, 0)
    cleansing_policy_defaults_install(tenant=in_tenant_a.tenant)  # idempotent
    assert CleansingPolicy.objects.count() == 1


def test_adding_an_entry_stores_it_normalised_bumps_the_blacklist_version_and_audits(in_tenant_a):
    owner = in_tenant_a.owner.user
    entry = blacklist_entry_add(tenant=in_tenant_a.tenant, kind="phone", value="139 5281 6437", note=" 骚扰 电话 ", actor=owner)
    assert (entry.value, entry.original, entry.note, entry.created_by) == ("+8613952816437", "139 5281 6437", "骚扰 电话", owner)
    assert versions() == (1, 1, 0)
    audit = AuditLog.objects.get(action="blacklist.add")
    assert (audit.actor, audit.object_id, audit.changes["value"]) == (owner, str(entry.id), "+8613952816437")


@pytest.mark.parametrize(
    ("kind", "value", "field", "message"),
    [
        ("phone", "张三的电话", "value", "is not a phone number"),
        ("email", "zhang.san#qq.com", "value", "is not an e-mail address"),
        ("email", "qq.com", "value", "is an e-mail domain"),
        ("email_domain", "boss@rival.com", "value", "is an e-mail address"),
        ("company", "（北京）", "value", "is not a company name"),
        ("keyword", "赌", "value", "too short"),
        ("mobile", "13952816437", "kind", "phone, email, email_domain, company, keyword"),
    ],
)
def test_a_bad_entry_says_what_to_fix_and_changes_nothing(in_tenant_a, kind, value, field, message):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        blacklist_entry_add(tenant=in_tenant_a.tenant, kind=kind, value=value)
    assert message in raised.value.message_dict[field][0]
    assert BlacklistEntry.objects.count() == 0
    assert versions() == (0, 0, 0)
    assert not AuditLog.objects.filter(action__startswith="blacklist").exists()


def test_the_same_entry_in_another_form_is_refused_naming_the_one_there(in_tenant_a):
    first = blacklist_entry_add(tenant=in_tenant_a.tenant, kind="phone", value="13952816437")
    with translation.override("en"), pytest.raises(CleansingEntryExists) as raised:
        blacklist_entry_add(tenant=in_tenant_a.tenant, kind="phone", value="+86 139-5281-6437")
    assert raised.value.existing == first
    assert "13952816437" in raised.value.message and "already" in raised.value.message
    assert BlacklistEntry.objects.count() == 1
    assert versions() == (1, 1, 0)


def test_deleting_an_entry_bumps_the_version_and_another_tenants_entry_is_not_found(in_tenant_a):
    entry = blacklist_entry_add(tenant=in_tenant_a.tenant, kind="email_domain", value="spam.cn")
    blacklist_entry_delete(tenant=in_tenant_a.tenant, entry_id=entry.id)
    assert BlacklistEntry.objects.count() == 0
    assert versions() == (2, 2, 0)
    assert AuditLog.objects.get(action="blacklist.delete").changes == {"kind": "email_domain", "value": "spam.cn"}
    other = make_tenant("tenant-other")
    with tenant_scope(other.tenant.id):
        foreign = blacklist_entry_add(tenant=other.tenant, kind="keyword", value="竞品")
    with pytest.raises(BlacklistEntry.DoesNotExist):
        blacklist_entry_delete(tenant=in_tenant_a.tenant, entry_id=foreign.id)
    assert versions() == (2, 2, 0)


IMPORT_FILE = (
    "# 2025 年投诉名单\n"
    "类型,内容\n"
    "手机,139 5281 6437\n"
    "email,Boss@Rival.com\n"
    "域名,spam.cn\n"
    "公司,北京纷扬科技有限公司\n"
    "关键词,代开发票\n"
    "手机,13952816437\n"  # the same number again
    "手机,12345\n"  # not a phone
    "北京某某公司\n"  # no kind
)


def test_an_import_with_bad_lines_is_refused_whole_with_each_line_and_its_reason(in_tenant_a):
    with translation.override("en"), pytest.raises(ListImportRefused) as raised:
        blacklist_import(tenant=in_tenant_a.tenant, data=IMPORT_FILE.encode("gbk"))
    assert [(line.line, line.text) for line in raised.value.refused] == [(9, "手机,12345"), (10, "北京某某公司")]
    assert "not a phone number" in raised.value.refused[0].message
    assert "Cannot tell what kind of entry" in raised.value.refused[1].message
    assert "2 line(s) cannot be imported" in raised.value.message
    assert BlacklistEntry.objects.count() == 0
    assert versions() == (0, 0, 0)


def test_an_import_skipping_bad_lines_adds_the_rest_and_counts_duplicates(in_tenant_a):
    blacklist_entry_add(tenant=in_tenant_a.tenant, kind="email_domain", value="spam.cn")
    report = blacklist_import(
        tenant=in_tenant_a.tenant, data=IMPORT_FILE.encode("gbk"), skip_invalid=True, note="投诉名单",
        actor=in_tenant_a.owner.user,
    )
    assert (report.encoding, report.added_count, report.duplicate_count, len(report.refused)) == ("gb18030", 4, 2, 2)
    assert set(BlacklistEntry.objects.values_list("kind", "value")) == {
        ("phone", "+8613952816437"), ("email", "boss@rival.com"), ("email_domain", "spam.cn"),
        ("company", "北京纷扬科技有限公司"), ("keyword", "代开发票"),
    }
    phone = BlacklistEntry.objects.get(kind="phone")
    assert (phone.original, phone.note, phone.created_by) == ("139 5281 6437", "投诉名单", in_tenant_a.owner.user)
    assert versions() == (2, 2, 0)
    assert AuditLog.objects.get(action="blacklist.import").changes["added"] == 4
    # the same file again: nothing new, nothing to rebuild
    again = blacklist_import(tenant=in_tenant_a.tenant, data=IMPORT_FILE.encode("gbk"), skip_invalid=True)
    assert (again.added_count, again.duplicate_count) == (0, 6)
    assert versions() == (2, 2, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary", "The file is not text"),
        (b"# only a comment\n\n", "nothing to import"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_with_a_message(in_tenant_a, data, message):
    with translation.override("en"), pytest.raises(ListImportRefused) as raised:
        blacklist_import(tenant=in_tenant_a.tenant, data=data, kind="phone")
    assert message in raised.value.message


def test_sensitive_words_add_delete_and_refuse_duplicates_and_bad_words(in_tenant_a):
    word = sensitive_word_add(tenant=in_tenant_a.tenant, word="ＡＢＣ 竞品", category="custom")
    assert (word.word, word.original) == ("abc 竞品", "ABC 竞品")
    assert versions() == (1, 0, 1)
    with pytest.raises(CleansingEntryExists):
        sensitive_word_add(tenant=in_tenant_a.tenant, word="abc 竞品")
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        sensitive_word_add(tenant=in_tenant_a.tenant, word="赌")
    assert "too short" in raised.value.message_dict["word"][0]
    with pytest.raises(ValidationError) as raised:
        sensitive_word_add(tenant=in_tenant_a.tenant, word="竞品二", category="nonsense")
    assert "category" in raised.value.message_dict
    sensitive_word_delete(tenant=in_tenant_a.tenant, word_id=word.id)
    assert SensitiveWord.objects.count() == 0
    assert versions() == (2, 0, 2)


def test_a_policy_change_bumps_the_word_version_only_when_the_lexicon_is_switched(in_tenant_a):
    cleansing_policy_update(tenant=in_tenant_a.tenant, sensitive_action="flag")
    assert versions() == (1, 0, 0)
    cleansing_policy_update(tenant=in_tenant_a.tenant, use_builtin_words=False)
    assert versions() == (2, 0, 1)
    cleansing_policy_update(tenant=in_tenant_a.tenant, use_builtin_words=False, sensitive_action="flag")  # no change
    assert versions() == (2, 0, 1)
    assert AuditLog.objects.filter(action="cleansing_policy.update").count() == 2
    with pytest.raises(ValidationError):
        cleansing_policy_update(tenant=in_tenant_a.tenant, sensitive_action="delete")


def test_a_tenant_made_before_cleansing_rules_gets_its_policy_on_the_first_change(in_tenant_a):
    CleansingPolicy.objects.all().delete()
    blacklist_entry_add(tenant=in_tenant_a.tenant, kind="keyword", value="竞品")
    assert versions() == (1, 1, 0)


def _words(count: int, *, seed: int = 5) -> list[str]:
    """`count` words that stay distinct once normalised (Traditional characters fold into Simplified)."""
    rnd = random.Random(seed)
    words: dict[str, str] = {}
    while len(words) < count:
        if rnd.random() < 0.7:
            word = "".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(rnd.randint(2, 6)))
        else:
            word = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(4, 12)))
        words.setdefault(sensitive_word_normalise(word), word)
    return sorted(words.values())


def test_a_list_of_100000_words_imports_in_seconds(in_tenant_a):
    """The issue's bad input: accepted, up to the cap of 100,000 a tenant, in one statement."""
    data = ("\n".join(_words(MAX_SENSITIVE_WORDS)) + "\n").encode()
    started = time.perf_counter()
    report = sensitive_word_import(tenant=in_tenant_a.tenant, data=data)
    seconds = time.perf_counter() - started
    print(f"\nimport of 100,000 sensitive words: {seconds:.2f} s ({len(data) / 1e6:.1f} MB)")  # noqa: T201 (the report)
    assert report.added_count == MAX_SENSITIVE_WORDS
    assert SensitiveWord.objects.count() == MAX_SENSITIVE_WORDS
    assert versions() == (1, 0, 1)
    assert seconds < 30
    # One more is over the cap: refused with a message, nothing added.
    with translation.override("en"), pytest.raises(ListImportRefused) as raised:
        sensitive_word_import(tenant=in_tenant_a.tenant, data="超出上限的词\n另一个新词\n".encode())
    assert "At most 100000" in raised.value.message and "room for 0 more" in raised.value.message
    with pytest.raises(ValidationError):
        sensitive_word_add(tenant=in_tenant_a.tenant, word="超出上限的词")
    assert SensitiveWord.objects.count() == MAX_SENSITIVE_WORDS
    assert versions() == (1, 0, 1)


def test_a_file_over_the_cap_is_refused_whole(in_tenant_a, monkeypatch):
    monkeypatch.setattr("leads.cleansing_services.MAX_SENSITIVE_WORDS", 3)
    sensitive_word_add(tenant=in_tenant_a.tenant, word="竞品甲")
    with translation.override("en"), pytest.raises(ListImportRefused) as raised:
        sensitive_word_import(tenant=in_tenant_a.tenant, data="竞品乙\n竞品丙\n竞品丁\n".encode())
    assert "room for 2 more" in raised.value.message
    assert list(SensitiveWord.objects.values_list("word", flat=True)) == ["竞品甲"]
    assert versions() == (1, 0, 1)


def test_a_word_file_reads_categories_and_exceptions(in_tenant_a):
    data = "分类,词\n赌博,网上赌场\n例外,特色情况\n竞品公司\n辱骂,x\n".encode("utf-8-sig")
    report = sensitive_word_import(tenant=in_tenant_a.tenant, data=data, skip_invalid=True)
    assert (report.added_count, [line.line for line in report.refused]) == (3, [5])
    assert set(SensitiveWord.objects.values_list("word", "category")) == {
        ("网上赌场", "gambling"), ("特色情况", "allow"), ("竞品公司", "custom"),
    }
