"""Pure normalisation of an incoming lead (SPEC §2). No ORM: unit-tested without a database.

Full-width → half-width (NFKC), trimmed whitespace, phones to E.164 (default region CN), the
mobile number's region (手机号属地) when province/city are empty, lower-case e-mail, and the
company and person keys duplicate matching compares (§3, leads.matching). Validity is decided on the way (§3): invalid
or fake mobiles and landlines, malformed or placeholder e-mails, and "无"/"-" in a contact box
read as no contact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType, geocoder

from leads.fields import CONTACT_FIELD_NAMES, SEARCH_TEXT_FIELD_NAMES, TEXT_FIELD_NAMES
from leads.matching import company_brand, parse_company, person_name_key

DEFAULT_REGION = "CN"
TEXT_FIELDS = TEXT_FIELD_NAMES
_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_PROVINCE_SUFFIX = re.compile(r"^(.+?(?:省|自治区|特别行政区))(.*)$")


def to_half_width(value: str) -> str:
    """Full-width letters, digits and punctuation to ASCII; ideographs are unchanged."""
    return unicodedata.normalize("NFKC", value)


# Characters nobody types into a name or a company but copy-paste and scripts bring along: control
# characters (a bell, an escape: a spreadsheet cell cannot even hold them) and zero-width
# spaces and marks, which would also make "纷扬\u200b科技" differ from "纷扬科技" for duplicates.
_INVISIBLE = {
    code: None for code in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)
    if not chr(code).isspace()  # tabs and line breaks become one space, as other whitespace
}


def clean_text(value: Any) -> str:
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if not text.isascii():  # ASCII is already NFKC
        text = to_half_width(text)
    if not text.isprintable():
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())  # runs of whitespace to one space, trimmed (as `\s+`)


def clean_notes(value: Any) -> str:
    """Free text keeps its lines; invisible characters go as in `clean_text`."""
    text = to_half_width(str(value or "")).strip()
    return text if text.isprintable() else text.translate(_INVISIBLE)


@dataclass(frozen=True)
class ParsedPhone:
    e164: str
    is_valid: bool
    is_mobile: bool
    region_text: str  # e.g. "江苏省常州市"; empty when unknown


_NOT_PHONE_CHARS = re.compile(r"[^\d+]")
_CN_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_CN_MOBILE_E164 = re.compile(r"\+861[3-9]\d{9}\Z")


@lru_cache(maxsize=65_536)
def _cn_mobile_block(prefix7: str) -> tuple[bool, bool, str]:
    """Validity, mobile-ness and region of a Chinese mobile number block (号段): libphonenumber
    decides these from the first seven digits, so a block is parsed once, not every lead."""
    # Built, not parsed: parsing was two thirds of a block's cost (a cold worker meets thousands
    # of blocks). +86 belongs to one region only, so valid ≡ of a known type there.
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix7 + "0000"))
    number_type = phonenumbers.number_type(number)
    is_valid = number_type != PhoneNumberType.UNKNOWN
    is_mobile = number_type in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return is_valid, is_mobile, geocoder.description_for_number(number, "zh") if is_valid else ""


def parse_phone(raw: str, *, region: str = DEFAULT_REGION) -> ParsedPhone | None:
    """None when the text is not a phone number at all. Takes any way people write a number:
    "132-9397-2980", "+86 159 4696 2913", "(+86)15946962913", "0086…", "86-…", full-width digits
    (alone or mixed with ASCII ones)."""
    if not raw.isascii():  # `\d` keeps full-width (and other scripts') digits as they are
        raw = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in unicodedata.normalize("NFKC", raw))
    digits = raw if raw.isdigit() and raw.isascii() else _NOT_PHONE_CHARS.sub("", raw)
    if not digits:
        return None
    if region == "CN" and (match := _CN_MOBILE.match(digits)):
        national = match.group(1)
        is_valid, is_mobile, region_text = _cn_mobile_block(national[:7])
        return ParsedPhone(e164=f"+86{national}", is_valid=is_valid, is_mobile=is_mobile, region_text=region_text)
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    is_valid = phonenumbers.is_valid_number(number)
    number_type = phonenumbers.number_type(number)
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        is_valid=is_valid,
        is_mobile=number_type in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
        region_text=geocoder.description_for_number(number, "zh") if is_valid else "",
    )


def split_region(region_text: str) -> tuple[str, str]:
    """'江苏省常州市' -> ('江苏省', '常州市'); '北京市' -> ('北京市', '北京市')."""
    if not region_text:
        return "", ""
    for city in _MUNICIPALITIES:
        if region_text.startswith(city):
            return city, city
    if match := _PROVINCE_SUFFIX.match(region_text):
        return match.group(1), match.group(2)
    return region_text, ""


# Every run of eight digits going up or down by one, 9 → 0 and 0 → 9 included ("78901234" is what a
# hand sliding along the keys types).
_RUNS_OF_8 = frozenset(
    run[i : i + 8] for run in ("01234567890123456789", "98765432109876543210") for i in range(10)
)


def is_fake_mobile(national_number: str) -> bool:
    """What people type to get past a form with a Chinese mobile number (11 digits): 13800000000,
    12345678901, 11111111111, 13800138000, 13812345678, 13131313131.

    All the rules together match about five random numbers in a million (`tests/leads/
    test_normalization.py` measures it): a real customer who holds such a number is far rarer
    than someone inventing one, and a 靓号 like 13888888888 typed into a lead form is, in
    practice, a fake. Slices and set look-ups only: this runs for every lead."""
    digits = national_number
    if len(digits) != 11:
        return is_fake_digits(digits)
    tail = digits[3:]  # the subscriber's part; the first three digits are the carrier's block
    if tail[:7] == tail[0] * 7 or tail[1:] == tail[1] * 7:  # 13800000000, 13800000001, 13890000000
        return True
    if tail[2:] == tail[:-2] or (tail[:4] == tail[0] * 4 and tail[4:] == tail[4] * 4):  # 13812121212, 13811112222
        return True
    if tail[:4] == tail[4:] and tail in ("12341234", "23452345", "34563456", "45674567", "56785678", "67896789"):
        return True
    if digits[:8] in _RUNS_OF_8 or digits[1:9] in _RUNS_OF_8 or digits[2:10] in _RUNS_OF_8 or digits[3:] in _RUNS_OF_8:
        return True  # 12345678901, 13456789012, 19876543210, 13812345678
    if digits[2:] == digits[:-2] or digits[3:] == digits[:-3] or digits[4:] == digits[:-4]:
        return True  # 11111111111, 13131313131, 15915915915, 13141314131
    prefix = digits[:3]
    return digits == f"{prefix}00{prefix}000"  # 13800138000, 13900139000: the operators' advertised numbers


def is_fake_digits(digits: str) -> bool:
    """A number of another kind (a landline, a foreign mobile) whose last seven digits are one
    repeated digit or a run: 010-88888888, 021-12345678, 0755-7777777. Seven, because local
    numbers have seven or eight digits."""
    local = digits[-7:]
    if len(local) < 7:
        return False
    return local == local[0] * 7 or local in "01234567890123456789" or local in "98765432109876543210"


def company_key(company: str) -> str:
    """The company's core for display and grouping (leads.matching: brand + trade, without region,
    legal form or brackets): "北京纷扬科技有限公司", "纷扬科技（北京）有限公司" → "纷扬科技"; "" for no company,
    a placeholder ("个人", "无") or a region alone ("（北京）"). Duplicate matching compares brands."""
    parsed = parse_company(company)
    return "" if parsed.is_place_only else parsed.core


@dataclass
class NormalisedLead:
    fields: dict[str, Any]
    mobile_problem: str | None = None  # a reason code when the mobile is present but unusable
    phone_problem: str | None = None
    email_problem: str | None = None


# What people put in a contact box when they have nothing to give ("无", "-", "n/a"): no contact,
# rather than an invalid one (the lead then says `no_contact` when nothing else reaches them).
_NO_VALUE = frozenset(
    {"-", "--", "---", "—", "——", "/", "\\", ".", "..", "...", "。", "0", "无", "没有", "暂无", "未知", "不详", "空",
     "n/a", "na", "none", "null", "nil"}
)


def is_no_value(value: str) -> bool:
    return value.lower() in _NO_VALUE


# E-mail: `email-validator` decides (syntax only, no DNS). It costs ~13 µs an address, so the
# common shape — an ASCII dot-atom local part, a subset of what it accepts — is checked here and
# only the domain goes to it, once per domain (qq.com, 163.com … repeat across leads).
_PLAIN_LOCAL_PART = re.compile(r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*\Z")


@lru_cache(maxsize=8192)
def email_domain_is_valid(domain: str) -> bool:
    """A domain that can receive mail by `email-validator`'s syntax rules (lower-case input)."""
    try:
        validate_email(f"x@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def email_is_valid(email: str) -> bool:
    """Well-formed by `email-validator`, without network look-ups (lower-case input)."""
    local, at, domain = email.rpartition("@")
    if at and len(email) <= 254 and email.isascii() and _PLAIN_LOCAL_PART.match(local):
        return email_domain_is_valid(domain)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


# Placeholders people type to get past a form (test@test.com, a@a.com, ceshi@qq.com). Real
# addresses that merely look odd stay: 123456@qq.com is QQ number 123456's mailbox.
_FAKE_LOCAL_PARTS = frozenset(
    {"test", "tests", "tester", "testing", "ceshi", "demo", "example", "sample", "fake", "null", "none", "nobody",
     "noemail", "nomail", "no-email", "no_email", "noreply", "no-reply", "donotreply", "do-not-reply", "asdf",
     "asdfg", "asdfgh", "asdfghjkl", "qwe", "qwer", "qwert", "qwerty", "qweqwe", "zxc", "zxcv", "zxcvbn", "abc",
     "abcd", "abcde", "abcdef", "abcdefg", "abc123", "xyz", "xxx", "xxxx", "youremail", "yourname", "your.name",
     "your.email", "name", "someone", "somebody"}
)
_FAKE_LOCAL_WITH_NUMBER = frozenset({"test", "tester", "ceshi", "demo", "example", "sample", "fake", "asdf", "qwe", "abc"})
_FAKE_DOMAIN_NAMES = frozenset(
    {"test", "tests", "testing", "ceshi", "example", "sample", "domain", "yourdomain", "yourcompany", "mycompany",
     "fake", "null", "none", "invalid", "asdf", "asd", "qwe", "qwer", "qwerty", "abc", "abcd", "abcde", "xxx", "aa",
     "bb", "xx", "zz", "00", "11"}
)
_TLD_TYPOS = frozenset({"con", "cmo", "ocm", "comm", "coom", "vom", "xom", "cpm", "cim", "cn1", "cnn"})
_SECOND_LEVEL_LABELS = frozenset({"com", "net", "org", "gov", "edu", "co", "ac"})  # qq.com.cn, abc.co.uk
_QQ_MAIL_DOMAINS = frozenset({"qq.com", "vip.qq.com", "foxmail.com"})
# Free mail that gives no one-letter mailboxes (a company's own domain may: j@company.com).
_FREE_MAIL_DOMAINS = frozenset(
    {"qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com",
     "139.com", "189.cn", "aliyun.com", "gmail.com", "hotmail.com", "outlook.com", "live.com", "yahoo.com", "icloud.com"}
)


def is_fake_email(email: str) -> bool:
    """A well-formed address nobody receives mail at (lower-case input)."""
    local, _, domain = email.rpartition("@")
    labels = domain.split(".")
    if labels[-1] in _TLD_TYPOS:  # qq.con, 163.cmo: no such top-level domain
        return True
    name = labels[-3] if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL_LABELS else labels[-2 if len(labels) > 1 else 0]
    if name in _FAKE_DOMAIN_NAMES or len(name) == 1 or (len(name) >= 3 and len(set(name)) == 1):  # a.com, aaa.com
        return True
    if name.isdigit() and len(name) >= 3 and name in "0123456789":  # 123.com, 1234.cn
        return True
    if local.isdigit() and local.isascii():
        if domain in _QQ_MAIL_DOMAINS:  # a QQ number: five digits or more, no leading zero
            return not (5 <= len(local) <= 11 and local[0] != "0")
        return len(local) < 5  # 123@163.com
    base = local.split("+", 1)[0]
    if base in _FAKE_LOCAL_PARTS or base.rstrip("0123456789") in _FAKE_LOCAL_WITH_NUMBER:  # test, test123, ceshi01
        return True
    if base.isalpha() and len(set(base)) == 1:  # aaaa@…, and a@… where no one has such a mailbox
        return len(base) > 1 or domain in _FREE_MAIL_DOMAINS
    return False


def email_problem(email: str) -> str | None:
    """`invalid.email` for a malformed or placeholder address (lower-case input), else None."""
    if not email_is_valid(email) or is_fake_email(email):
        return "invalid.email"
    return None

_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
_EMAIL_EDGE_JUNK = "<>\"'()[]{},;:。.，；：、 "


def normalise_email(raw: str) -> str:
    """The comparable form of an e-mail as typed: half-width (＠ → @), lower case, without the
    `mailto:` of a copied link, a display name ("王萱强 <a@b.cn>"), surrounding brackets, quotes or
    sentence punctuation, and without spaces; a Chinese full stop typed for the dot (IME) is a dot.
    What is left is checked by the e-mail rule; this only removes what cannot be part of it."""
    text = unicodedata.normalize("NFKC", raw) if not raw.isascii() else raw
    if (start := text.rfind("<")) != -1 and (end := text.find(">", start)) != -1:
        text = text[start + 1 : end]
    text = _MAILTO.sub("", text.strip())
    text = "".join(text.replace("。", ".").split()).strip(_EMAIL_EDGE_JUNK)
    return _MAILTO.sub("", text).lower()


_EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")


def normalise_lead(raw: dict[str, Any]) -> NormalisedLead:
    fields: dict[str, Any] = {name: clean_text(raw.get(name)) for name in TEXT_FIELDS if name in raw}
    for name in TEXT_FIELDS:
        fields.setdefault(name, "")
    for name in CONTACT_FIELD_NAMES:
        if fields[name] and fields[name].lower() in _NO_VALUE:
            fields[name] = ""
    fields["notes"] = clean_notes(raw.get("notes"))
    fields["annual_revenue"] = raw.get("annual_revenue")
    fields["custom"] = raw.get("custom") or {}
    result = NormalisedLead(fields=fields)

    if mobile := fields["mobile"]:
        parsed = parse_phone(mobile)
        if parsed is None or not parsed.is_valid or not parsed.is_mobile or _is_fake_number(parsed.e164):
            result.mobile_problem = "invalid.mobile"
        else:
            fields["mobile"] = parsed.e164
            if not fields["province"] and not fields["city"]:
                fields["province"], fields["city"] = split_region(parsed.region_text)
    if phone := fields["phone"]:
        parsed = parse_phone(phone)
        if parsed is None or not parsed.is_valid or _is_fake_number(parsed.e164):
            result.phone_problem = "invalid.phone"
        else:
            fields["phone"] = parsed.e164
            if not fields["province"] and not fields["city"] and parsed.region_text:
                fields["province"], fields["city"] = split_region(parsed.region_text)
    if email := fields["email"]:
        fields["email"] = email = normalise_email(email)
        result.email_problem = email_problem(email)
    fields.update(match_keys(fields))
    return result


def match_keys(fields: dict[str, Any]) -> dict[str, str]:
    """The lead's stored matching keys (leads.matching), kept in step wherever company or name
    are written: `company_key` (the core), `company_brand`, `name_key`."""
    company, name = fields.get("company") or "", fields.get("name") or ""
    return {
        "company_key": company_key(company) if company else "",
        "company_brand": company_brand(company) if company else "",
        "name_key": person_name_key(name) if name else "",
    }


def _is_fake_number(e164: str) -> bool:
    if _CN_MOBILE_E164.match(e164):
        return is_fake_mobile(e164[3:])
    return is_fake_digits(e164)


def search_text(fields: dict[str, Any]) -> str:
    """What `q` searches by substring: names, company, phone numbers, WeChat id. (A national
    number is a substring of its E.164 form, so "139…" finds "+86139…" without storing it
    twice.) E-mail is left out: its local part is a run of rare trigrams, which made the search
    index cost twice as much per insert; `q` finds e-mails by prefix through their own index."""
    parts = [fields.get(name, "") for name in SEARCH_TEXT_FIELD_NAMES]
    return " ".join(part for part in parts if part).lower()


# CJK Unified Ideographs and Extension A: the characters of Chinese names and companies.
_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]{2,}")


def search_bigrams(fields: dict[str, Any]) -> list[str]:
    """Every pair of adjacent Chinese characters in the name and the company, once each: what a
    two-character search looks up (trigrams need three)."""
    pairs: set[str] = set()
    for text in (fields.get("name", ""), fields.get("company", "")):
        for run in _CJK_RUN.findall(text or ""):
            pairs.update(run[i : i + 2] for i in range(len(run) - 1))
    return sorted(pairs)


def is_cjk_pair(value: str) -> bool:
    return len(value) == 2 and _CJK_RUN.fullmatch(value) is not None


def search_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """The lead's search columns, kept in step wherever name, company or contacts are written."""
    return {"search_text": search_text(fields), "search_bigrams": search_bigrams(fields)}
