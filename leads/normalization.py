"""Pure normalisation of an incoming lead (SPEC §2). No ORM: unit-tested without a database.

Full-width → half-width (NFKC), trimmed whitespace, phones to E.164 (default region CN), the
mobile number's region (手机号属地) when province/city are empty, lower-case e-mail, and a
normalised company key for duplicate matching (§3).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType, geocoder

from leads.fields import SEARCH_TEXT_FIELD_NAMES, TEXT_FIELD_NAMES

DEFAULT_REGION = "CN"
TEXT_FIELDS = TEXT_FIELD_NAMES
_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_PROVINCE_SUFFIX = re.compile(r"^(.+?(?:省|自治区|特别行政区))(.*)$")

# Company key: strip what people add or drop when writing the same company (§3).
_LEGAL_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团股份有限公司", "集团公司", "集团",
    "股份公司", "总公司", "分公司", "公司", "co.,ltd.", "co., ltd.", "co.,ltd", "co. ltd", "co ltd",
    "company limited", "corporation", "limited", "ltd.", "ltd", "inc.", "inc", "corp.", "corp", "llc", "gmbh",
)
_REGION_PREFIXES = tuple(
    sorted(
        ["北京", "上海", "天津", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "深圳", "广州", "杭州", "南京", "苏州", "成都", "武汉", "西安", "长沙", "郑州", "青岛", "厦门", "宁波", "无锡", "合肥", "福州", "济南", "大连", "沈阳", "哈尔滨", "长春", "昆明", "南昌", "南宁", "贵阳", "太原", "石家庄", "珠海", "佛山", "东莞", "中山", "常州", "温州", "烟台", "唐山", "徐州", "绍兴", "嘉兴", "金华", "台州", "泉州", "惠州"],
        key=len,
        reverse=True,
    )
)
_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")
_PUNCTUATION = re.compile(r"[\s\-_.,，。·・'\"“”‘’/\\&+]+")


def to_half_width(value: str) -> str:
    """Full-width letters, digits and punctuation to ASCII; ideographs are unchanged."""
    return unicodedata.normalize("NFKC", value)


def clean_text(value: Any) -> str:
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if not text.isascii():  # ASCII is already NFKC
        text = to_half_width(text)
    return " ".join(text.split())  # runs of whitespace to one space, trimmed (as `\s+`)


@dataclass(frozen=True)
class ParsedPhone:
    e164: str
    is_valid: bool
    is_mobile: bool
    region_text: str  # e.g. "江苏省常州市"; empty when unknown


_NOT_PHONE_CHARS = re.compile(r"[^\d+]")
_CN_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


@lru_cache(maxsize=65_536)
def _cn_mobile_block(prefix7: str) -> tuple[bool, bool, str]:
    """Validity, mobile-ness and region of a Chinese mobile number block (号段): libphonenumber
    decides these from the first seven digits, so a block is parsed once, not every lead."""
    try:
        number = phonenumbers.parse(prefix7 + "0000", "CN")
    except phonenumbers.NumberParseException:  # e.g. 179xx: read as a carrier-select prefix
        return False, False, ""
    is_valid = phonenumbers.is_valid_number(number)
    number_type = phonenumbers.number_type(number)
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


def is_fake_mobile(national_number: str) -> bool:
    """Patterns people type to get past a form: 13800000000, 12345678901, 11111111111."""
    if len(set(national_number)) == 1:
        return True
    tail = national_number[3:]
    if len(set(tail)) == 1:  # a real prefix and eight identical digits
        return True
    ascending = "01234567890123456789"
    descending = "98765432109876543210"
    return national_number in ascending or national_number in descending


_BARE_SUFFIXES = sorted(
    {suffix.replace(" ", "").replace(".", "").replace(",", "") for suffix in _LEGAL_SUFFIXES}, key=len, reverse=True
)
_SUFFIX_RE = re.compile("(?:" + "|".join(map(re.escape, _BARE_SUFFIXES)) + ")$")
_PREFIX_RE = re.compile("^(?:" + "|".join(map(re.escape, _REGION_PREFIXES)) + ")[市省]?")


def company_key(company: str) -> str:
    """A key under which "北京纷扬科技有限公司", "北京纷扬" and "纷扬科技" come close together:
    lower-case, no brackets, punctuation, region prefix or legal suffix."""
    key = _PUNCTUATION.sub("", _BRACKETS.sub("", to_half_width(company).lower()))
    while key:
        before = key
        while (match := _SUFFIX_RE.search(key)) and match.start() > 0:
            key = key[: match.start()]
        if (match := _PREFIX_RE.match(key)) and len(key) > match.end() + 1:
            key = key[match.end() :]
        if key == before:
            break
    return key


@dataclass
class NormalisedLead:
    fields: dict[str, Any]
    mobile_problem: str | None = None  # a reason code when the mobile is present but unusable
    phone_problem: str | None = None
    email_problem: str | None = None


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
    fields["notes"] = to_half_width(str(raw.get("notes") or "")).strip()
    fields["annual_revenue"] = raw.get("annual_revenue")
    fields["custom"] = raw.get("custom") or {}
    result = NormalisedLead(fields=fields)

    if mobile := fields["mobile"]:
        parsed = parse_phone(mobile)
        if parsed is None or not parsed.is_valid or not parsed.is_mobile or (parsed.e164.startswith("+86") and is_fake_mobile(parsed.e164[3:])):
            result.mobile_problem = "invalid.mobile"
        else:
            fields["mobile"] = parsed.e164
            if not fields["province"] and not fields["city"]:
                fields["province"], fields["city"] = split_region(parsed.region_text)
    if phone := fields["phone"]:
        parsed = parse_phone(phone)
        if parsed is None or not parsed.is_valid:
            result.phone_problem = "invalid.phone"
        else:
            fields["phone"] = parsed.e164
            if not fields["province"] and not fields["city"] and parsed.region_text:
                fields["province"], fields["city"] = split_region(parsed.region_text)
    if email := fields["email"]:
        fields["email"] = email = normalise_email(email)
        if len(email) > 254 or not _EMAIL.match(email) or ".." in email:
            result.email_problem = "invalid.email"
    fields["company_key"] = company_key(fields["company"]) if fields["company"] else ""
    return result


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
