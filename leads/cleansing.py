"""Pure checks that decide whether a submission is quarantined (SPEC §3). No ORM: unit-tested
without a database, and cheap enough for intake's hot path (a few µs a lead each).

- Validity: `validity_reasons` (no contact; the mobile and e-mail rules live in
  `leads.normalization`, which decides them while normalising).
- Sensitive words: `SensitiveWordMatcher`, the built-in lexicon (`leads/data/sensitive_words.txt`)
  plus a tenant's words in ONE Aho–Corasick automaton run once over all scanned fields.
- Blacklists: `blacklist_entry_normalise` (an admin's entry), `blacklist_file_parse` (an uploaded
  list), `BlacklistMatcher` (a lead against a tenant's entries → `blacklist.<kind>`).
- `sensitive_word_matcher_for` / `blacklist_matcher_for`: one matcher per tenant and list version
  per process, so an automaton is built when a list changes, not per request.

Matching rules, for sensitive words and blacklist keywords alike: text and entries pass through
`normalise_for_matching` (full-width → half-width, case, Traditional → Simplified, invisible
characters dropped, separators between Chinese characters dropped so "代 开 发 票" and
"代-开-发-票" read "代开发票"). Chinese entries match inside longer text; an entry's Latin end
matches only at a word boundary ("sex" is not in "Essex", "anal" not in "analysis"). `allow`
entries cancel the hits that lie inside them ("特色情况" holds 色情).
"""

from __future__ import annotations

import codecs
import csv
import re
import threading
import unicodedata
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Generic, TypeVar

import ahocorasick  # type: ignore[import-not-found]  # ships no type information
from django.utils.translation import gettext as _

from leads.fields import CONTACT_FIELD_NAMES, SCANNED_FIELD_NAMES
from leads.normalization import (
    NormalisedLead,
    clean_text,
    company_key,
    email_domain_is_valid,
    email_is_valid,
    is_no_value,
    parse_phone,
)

CONTACT_FIELDS = CONTACT_FIELD_NAMES
SCANNED_TEXT_FIELDS = SCANNED_FIELD_NAMES

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)


class ListEntryError(ValueError):
    """An entry of a blacklist or word list that cannot be used; `message` says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _shown(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- validity ----------------------------------------------------------------------------------


def has_contact(fields: Mapping[str, object]) -> bool:
    """A way to reach the person: a mobile, a landline, an e-mail or a WeChat id ("无" is none)."""
    for name in CONTACT_FIELDS:
        value = fields.get(name)
        if value and not is_no_value(str(value)):
            return True
    return False


def validity_reasons(normalised: NormalisedLead, *, include_phone: bool = False) -> list[str]:
    """The validity reason codes of a normalised lead (API.md): `no_contact`, `invalid.mobile`,
    `invalid.email`, and `invalid.phone` when asked (a bad landline beside a good mobile is
    not, by default, a reason to hold a lead back)."""
    reasons = [] if has_contact(normalised.fields) else ["no_contact"]
    problems = (normalised.mobile_problem, normalised.phone_problem if include_phone else None, normalised.email_problem)
    reasons.extend(problem for problem in problems if problem)
    return reasons


# --- text normalisation for matching -----------------------------------------------------------

_FIELD_SEPARATOR = "\x1f"  # joins the scanned fields; no entry contains it, so no hit spans two fields
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff"
# Anything that is not a letter or digit between two Chinese characters: "代 开", "代-开", "代😀开".
# (Written to start with the separator, not the look-behind: the regex engine then skips runs of
# letters quickly, which makes it several times faster on ordinary text.)
_CJK_GAP = re.compile(f"[^\\w{_FIELD_SEPARATOR}](?<=[{_CJK}][^\\w{_FIELD_SEPARATOR}])[^\\w{_FIELD_SEPARATOR}]*(?=[{_CJK}])")
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[str, str]:
    from opencc_purepy.dictionary_lib import DictionaryMaxlength

    table, _max_length = DictionaryMaxlength.new().ts_characters
    return {traditional: simplified for traditional, simplified in table.items() if len(traditional) == 1 and simplified != traditional}


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str | None]:
    """Traditional → Simplified by OpenCC's character table, invisible characters out. Character
    by character is enough because text and entries go through the same table (OpenCC's phrase
    conversion costs ~4 µs a lead, this ~1 µs, and only for text that needs it)."""
    table: dict[int, str | None] = {ord(traditional): simplified for traditional, simplified in _traditional_to_simplified().items()}
    table.update(dict.fromkeys(map(ord, _INVISIBLE)))
    return table


@lru_cache(maxsize=1)
def _needs_fold_table() -> re.Pattern[str]:
    """Whether text holds a character the table changes: a regex class over the BMP compiles to a
    bitmap (~0.6 µs a lead); most leads hold none, and `translate` with a dict costs 4 µs. Any
    character beyond the BMP (rare Traditional ones, and emoji) takes the table too."""
    bmp = sorted(char for char in _traditional_to_simplified() if char <= "\uffff")
    return re.compile("[" + "".join(bmp) + _INVISIBLE + "\U00010000-\U0010ffff]")


def _fold(text: str) -> str:
    """Case, width, Traditional → Simplified, invisible characters out, "_" → " " (a separator,
    so "代_开" is spaced out like "代 开")."""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).lower()
        if _needs_fold_table().search(text):
            text = text.translate(_fold_table())
    return text.replace("_", " ") if "_" in text else text


def normalise_for_matching(text: str) -> str:
    """The form in which entries and lead text are compared (see the module docstring)."""
    folded = _fold(text)
    return folded if folded.isascii() else _CJK_GAP.sub("", folded)


def _gap_positions(folded: str) -> list[int]:
    """Where, in the compacted text, a separator between Chinese characters was removed."""
    positions, removed = [], 0
    for gap in _CJK_GAP.finditer(folded):
        positions.append(gap.start() - removed)
        removed += gap.end() - gap.start()
    return positions


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or char >= "\U00020000"


def _is_word_char(char: str) -> bool:
    # Latin (and Greek, Cyrillic …) letters and digits; Chinese characters are not "word"
    # characters, so "约sex" still finds "sex" while "Essex" does not.
    return char.isalnum() and char < "\u2e80"


def _scan_text(fields: Mapping[str, object], names: Sequence[str]) -> str:
    return _FIELD_SEPARATOR.join([value if type(value) is str else str(value or "") for value in map(fields.get, names)])


@dataclass(frozen=True, slots=True)
class ScanText:
    """A lead's scanned text, normalised once for every matcher that reads it (sensitive words,
    blacklist keywords): `SensitiveWordMatcher.match(fields, scan=…)`."""

    folded: str
    compact: str  # folded, separators between Chinese characters removed: what is matched
    utf8: bytes
    automaton_text: str  # the UTF-8 bytes as latin-1 characters (see _PhraseIndex)
    names: tuple[str, ...] = ()  # the fields joined, in order, when made from fields

    @classmethod
    def of(cls, text: str, names: tuple[str, ...] = ()) -> ScanText:
        folded = _fold(text)
        compact = folded if folded.isascii() else _CJK_GAP.sub("", folded)
        utf8 = compact.encode("utf-8")
        return cls(folded, compact, utf8, compact if len(utf8) == len(compact) else utf8.decode("latin-1"), names)

    @classmethod
    def of_fields(cls, fields: Mapping[str, object], names: Sequence[str] = SCANNED_FIELD_NAMES) -> ScanText:
        return cls.of(_scan_text(fields, names), tuple(names))


@dataclass(frozen=True, slots=True)
class _Hit(Generic[T]):
    start: int
    end: int  # exclusive
    payload: T


_BYTE_LENGTH_MASK = 0xFFFF
_LENGTH_SHIFT = 16
_BOUNDED_START_BIT = 32  # the key starts with a Latin letter or digit: needs a word boundary before
_BOUNDED_END_BIT = 33
_ALLOWED_BIT = 34  # an `allow` phrase


class _PhraseIndex(Generic[H]):
    """One Aho–Corasick automaton over normalised phrases, with the boundary rule for Latin
    ends and `allow` phrases that cancel the hits inside them. Read-only once built, so one
    instance serves every thread."""

    def __init__(self, phrases: Iterable[tuple[str, H]], *, allowed: Iterable[str] = ()) -> None:
        by_key: dict[str, dict[H, None]] = {}  # payloads once each, in order: a list repeating a word costs nothing
        for phrase, payload in phrases:
            if key := normalise_for_matching(phrase).strip():
                by_key.setdefault(key, {})[payload] = None
        allowed_keys = {key for phrase in allowed if (key := normalise_for_matching(phrase).strip())}
        for key in allowed_keys:
            by_key.setdefault(key, {})
        self.size = len(by_key)
        self._automaton: Any = None
        # Per key, by the index the automaton stores (plain integers, no Python object per key):
        # its shape packed in one integer, and its payload (several, rarely, in `_more_payloads`).
        self._shapes = array("Q")
        self._payloads: list[H | None] = []
        self._more_payloads: dict[int, tuple[H, ...]] = {}
        if not by_key:
            return
        # Keys and text as UTF-8 bytes (each byte one character of a latin-1 string):
        # pyahocorasick looks a node's children up one by one, and the root of a Chinese word
        # list has thousands of them; over bytes no node has more than a few dozen. That took a
        # typical lead from 5 µs to 1.4 µs against the built-in list and from 211 µs to 3.7 µs
        # against 100,000 words. UTF-8 is self-synchronising, so every hit starts and ends on
        # whole characters.
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS, ahocorasick.KEY_STRING)
        for index, (key, payloads) in enumerate(by_key.items()):
            encoded = key.encode("utf-8").decode("latin-1")
            self._shapes.append(
                len(encoded)
                | len(key) << _LENGTH_SHIFT
                | _is_word_char(key[0]) << _BOUNDED_START_BIT
                | _is_word_char(key[-1]) << _BOUNDED_END_BIT
                | (key in allowed_keys) << _ALLOWED_BIT
            )
            listed = tuple(payloads)
            self._payloads.append(listed[0] if listed else None)
            if len(listed) > 1:
                self._more_payloads[index] = listed
            automaton.add_word(encoded, index)
        automaton.make_automaton()
        self._automaton = automaton

    def find(self, text: str | ScanText) -> tuple[str, list[_Hit[H]]]:
        """The normalised text and every hit in it (offsets into it), allowed ones removed."""
        scan = text if isinstance(text, ScanText) else ScanText.of(text)
        compact, folded, utf8 = scan.compact, scan.folded, scan.utf8
        if self._automaton is None:
            return compact, []
        is_ascii = len(utf8) == len(compact)
        hits: list[_Hit[H]] = []
        allowed_spans: list[tuple[int, int]] = []
        gaps: list[int] | None = [] if len(compact) == len(folded) else None
        text_end = len(compact)
        for last_byte, index in self._automaton.iter(scan.automaton_text):
            shape = self._shapes[index]
            first_byte = last_byte - (shape & _BYTE_LENGTH_MASK) + 1
            start = first_byte if is_ascii else len(utf8[:first_byte].decode("utf-8"))
            end = start + (shape >> _LENGTH_SHIFT & _BYTE_LENGTH_MASK)
            if shape >> _BOUNDED_START_BIT & 1 and start > 0 and _is_word_char(compact[start - 1]):
                continue
            if shape >> _BOUNDED_END_BIT & 1 and end < text_end and _is_word_char(compact[end]):
                continue
            if gaps is None:
                gaps = _gap_positions(folded)
            if gaps and not self._spans_gap_as_a_word(compact, start, end, gaps):
                continue
            if shape >> _ALLOWED_BIT & 1:
                allowed_spans.append((start, end))
            if index in self._more_payloads:
                hits.extend(_Hit(start, end, payload) for payload in self._more_payloads[index])
            elif (payload := self._payloads[index]) is not None:
                hits.append(_Hit(start, end, payload))
        if allowed_spans:
            hits = [hit for hit in hits if not any(a <= hit.start and hit.end <= b for a, b in allowed_spans)]
        return compact, hits

    @staticmethod
    def _spans_gap_as_a_word(compact: str, start: int, end: int, gaps: list[int]) -> bool:
        """A hit across removed separators counts when it is the word spaced out: both its ends
        are whole pieces ("代 开 发 票", "卖 大麻"), or one end is a whole piece of two characters
        or more ("可代开 发票"). It does not when it joins the end of one word to the start of
        another ("张博 彩虹科技" → 博彩) or a lone character to the start of a word ("3樓 鳳山")."""
        inside = [gap for gap in gaps if start < gap < end]
        if not inside:
            return True
        starts_a_piece = start == 0 or start in gaps or not _is_cjk(compact[start - 1])
        ends_a_piece = end == len(compact) or end in gaps or not _is_cjk(compact[end])
        if starts_a_piece and ends_a_piece:
            return True
        return (starts_a_piece and inside[0] - start >= 2) or (ends_a_piece and end - inside[-1] >= 2)


def _field_at(text: str, position: int, names: Sequence[str]) -> str:
    return names[text.count(_FIELD_SEPARATOR, 0, position)]


# --- sensitive words ---------------------------------------------------------------------------

SENSITIVE_CATEGORIES = ("gambling", "pornography", "fraud", "invoice", "weapons", "drugs", "political", "profanity")
ALLOW_CATEGORY = "allow"
TENANT_CATEGORY = "custom"  # a tenant's word given without a category
_WORD_MIN_LENGTH = 2
_WORD_MAX_LENGTH = 100


@dataclass(frozen=True, slots=True)
class SensitiveWord:
    word: str  # as written in the lexicon or by the tenant
    category: str
    is_builtin: bool


@dataclass(frozen=True, slots=True)
class SensitiveMatch:
    word: str
    category: str
    field: str  # the lead field it was found in
    is_builtin: bool


def _parse_lexicon(text: str) -> tuple[SensitiveWord, ...]:
    words = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        category, separator, word = line.partition(",")
        if not separator or category not in (*SENSITIVE_CATEGORIES, ALLOW_CATEGORY) or not word.strip():
            raise ValueError(f"sensitive_words.txt line {number}: expected 'category,word', got {line!r}")
        words.append(SensitiveWord(word=word.strip(), category=category, is_builtin=True))
    return tuple(words)


@lru_cache(maxsize=1)
def builtin_sensitive_words() -> tuple[SensitiveWord, ...]:
    """The built-in lexicon, `allow` entries included."""
    return _parse_lexicon(resources.files("leads").joinpath("data/sensitive_words.txt").read_text(encoding="utf-8"))


BUILTIN_SENSITIVE_WORDS: tuple[str, ...] = tuple(
    entry.word for entry in builtin_sensitive_words() if entry.category != ALLOW_CATEGORY
)

TenantWord = str | tuple[str, str]  # a word, or (word, category); category "allow" for an exception


def sensitive_word_normalise(word: str) -> str:
    """An admin's sensitive word in the form it is stored and compared; ListEntryError says
    what to fix."""
    cleaned = clean_text(word)
    if not cleaned:
        raise ListEntryError(_("内容为空：请填写要拦截的词"))
    if len(cleaned) > _WORD_MAX_LENGTH:
        raise ListEntryError(_("“{value}”太长：最多 {limit} 个字符").format(value=_shown(cleaned), limit=_WORD_MAX_LENGTH))
    key = normalise_for_matching(cleaned)
    if sum(char.isalnum() for char in key) < _WORD_MIN_LENGTH:
        raise ListEntryError(
            _("“{value}”太短：至少两个字或字母，一个字会命中几乎所有线索").format(value=_shown(cleaned))
        )
    return key


class SensitiveWordMatcher:
    """Built once from the built-in lexicon and a tenant's words; `match` finds them in a lead.

    The caller decides what a match does (quarantine with `sensitive_word`, or tag). Tenant
    words are taken as given (empty ones skipped): validate them when they are saved, with
    `sensitive_word_normalise`, not here, so a bad stored list never stops intake."""

    def __init__(
        self,
        tenant_words: Iterable[TenantWord] = (),
        *,
        include_builtin: bool = True,
        fields: Sequence[str] = SCANNED_FIELD_NAMES,
    ) -> None:
        entries = list(builtin_sensitive_words()) if include_builtin else []
        for item in tenant_words:
            word, category = (item, TENANT_CATEGORY) if isinstance(item, str) else item
            entries.append(SensitiveWord(word=word, category=category or TENANT_CATEGORY, is_builtin=False))
        self.fields = tuple(fields)
        self._index: _PhraseIndex[SensitiveWord] = _PhraseIndex(
            ((entry.word, entry) for entry in entries if entry.category != ALLOW_CATEGORY),
            allowed=(entry.word for entry in entries if entry.category == ALLOW_CATEGORY),
        )

    @property
    def size(self) -> int:
        """Distinct patterns in the automaton."""
        return self._index.size

    def match(self, fields: Mapping[str, object], *, scan: ScanText | None = None) -> list[SensitiveMatch]:
        """Every entry found in the lead's scanned fields, once per entry and field, in order.
        `scan`: the fields' `ScanText.of_fields`, when another matcher reads them too."""
        if scan is None:
            scan = ScanText.of_fields(fields, self.fields)
        text, hits = self._index.find(scan)
        names = scan.names
        return self._matches(hits, lambda position: _field_at(text, position, names))

    def match_text(self, text: str, *, field: str = "") -> list[SensitiveMatch]:
        _normalised, hits = self._index.find(text)
        return self._matches(hits, lambda position: field)

    def _matches(self, hits: list[_Hit[SensitiveWord]], field_at: Callable[[int], str]) -> list[SensitiveMatch]:
        found: dict[tuple[str, str, str], SensitiveMatch] = {}
        for hit in hits:
            entry, name = hit.payload, field_at(hit.start)
            found.setdefault(
                (entry.word, entry.category, name),
                SensitiveMatch(word=entry.word, category=entry.category, field=name, is_builtin=entry.is_builtin),
            )
        return list(found.values())


@lru_cache(maxsize=32)
def _matcher_for_words(words: tuple[str, ...]) -> SensitiveWordMatcher:
    return SensitiveWordMatcher(words, include_builtin=False)


def sensitive_words_found(fields: Mapping[str, object], words: Iterable[str]) -> list[str]:
    """The words of `words` found in the lead's scanned fields (the built-in tuple gets the
    built-in lexicon with its exceptions)."""
    matcher = _builtin_matcher() if words is BUILTIN_SENSITIVE_WORDS else _matcher_for_words(tuple(words))
    return list(dict.fromkeys(match.word for match in matcher.match(fields)))


@lru_cache(maxsize=1)
def _builtin_matcher() -> SensitiveWordMatcher:
    return SensitiveWordMatcher()


def builtin_sensitive_word_matcher() -> SensitiveWordMatcher:
    """The built-in lexicon alone, one per process: for the tenants that added no words."""
    return _builtin_matcher()


# --- blacklists --------------------------------------------------------------------------------

BLACKLIST_KINDS = ("phone", "email", "email_domain", "company", "keyword")
_MAX_LENGTH = {"phone": 40, "email": 254, "email_domain": 253, "company": 200, "keyword": _WORD_MAX_LENGTH}
_LOOKS_LIKE_DOMAIN = re.compile(r"@?(?:[\w-]+\.)+[a-z][\w-]*\Z")


def blacklist_reason(kind: str) -> str:
    return f"blacklist.{kind}"


def blacklist_entry_normalise(kind: str, value: str, *, company_normaliser: Callable[[str], str] = company_key) -> str:
    """An admin's blacklist entry in the form it is stored and matched: a phone as E.164, an
    e-mail and a domain lower-case, a company as written (cleaned; its key is computed when the
    matcher is built, so a better company normaliser applies to existing entries), a keyword
    normalised for matching. Raises ListEntryError saying what to fix."""
    if kind not in BLACKLIST_KINDS:
        raise ListEntryError(
            _("未知的黑名单类型“{kind}”：可选 phone（电话）、email（邮箱）、email_domain（邮箱域名）、company（公司）、keyword（关键词）").format(
                kind=_shown(str(kind))
            )
        )
    cleaned = clean_text(value)
    if not cleaned:
        raise ListEntryError(_("内容为空：请填写要拦截的号码、邮箱、域名、公司或关键词"))
    if len(cleaned) > _MAX_LENGTH[kind]:
        raise ListEntryError(_("“{value}”太长：最多 {limit} 个字符").format(value=_shown(cleaned), limit=_MAX_LENGTH[kind]))
    if kind == "phone":
        parsed = parse_phone(cleaned)
        if parsed is None or not parsed.is_valid:
            raise ListEntryError(
                _("“{value}”不是电话号码：请填写手机号（如 13812345678）或带区号的座机号（如 010-12345678）").format(
                    value=_shown(cleaned)
                )
            )
        return parsed.e164
    if kind == "email":
        email = cleaned.lower()
        if "@" not in email and _LOOKS_LIKE_DOMAIN.match(email):
            raise ListEntryError(
                _("“{value}”是邮箱域名，不是邮箱地址：要拦截整个域名，请添加为“邮箱域名”").format(value=_shown(cleaned))
            )
        if not email_is_valid(email):
            raise ListEntryError(_("“{value}”不是邮箱地址：请按 name@example.com 的格式填写").format(value=_shown(cleaned)))
        return email
    if kind == "email_domain":
        domain = cleaned.lower().removeprefix("*.").lstrip("@.")
        if "@" in domain:
            _local, _at, address_domain = domain.rpartition("@")
            raise ListEntryError(
                _("“{value}”是邮箱地址：要拦截整个域名请填写 {domain}，只拦截这个地址请添加为“邮箱”").format(
                    value=_shown(cleaned), domain=_shown(address_domain)
                )
            )
        if "." not in domain or not email_domain_is_valid(domain):
            raise ListEntryError(_("“{value}”不是邮箱域名：请按 qq.com 的格式填写").format(value=_shown(cleaned)))
        return domain
    if kind == "company":
        if not company_normaliser(cleaned):
            raise ListEntryError(
                _("“{value}”不是公司名称：去掉地区、括号和“有限公司”等后缀后什么也不剩").format(value=_shown(cleaned))
            )
        return cleaned
    return sensitive_word_normalise(cleaned)  # keyword


@dataclass(frozen=True, slots=True)
class BlacklistHit:
    kind: str
    entry: str  # the stored entry that matched
    field: str  # the lead field it matched

    @property
    def reason(self) -> str:
        return blacklist_reason(self.kind)


class BlacklistMatcher:
    """A tenant's blacklist, built once from entries normalised by `blacklist_entry_normalise`
    (kind, value); `match` checks a lead normalised by `normalise_lead`.

    Phones match the lead's mobile and landline (E.164); e-mails the address; an e-mail domain
    the address's domain and its subdomains (qq.com blocks vip.qq.com); companies by equal key
    under `company_normaliser` (swappable: the fuzzy company matcher replaces `company_key`);
    keywords like sensitive words, over the scanned fields."""

    def __init__(
        self,
        entries: Iterable[tuple[str, str]],
        *,
        company_normaliser: Callable[[str], str] = company_key,
        keyword_fields: Sequence[str] = SCANNED_FIELD_NAMES,
    ) -> None:
        self._phones: dict[str, str] = {}
        self._emails: dict[str, str] = {}
        self._domains: dict[str, str] = {}
        self._companies: dict[str, str] = {}
        keywords: list[str] = []
        self._company_normaliser = company_normaliser
        self.keyword_fields = tuple(keyword_fields)
        for kind, value in entries:
            if not value:
                continue
            if kind == "phone":
                e164 = value if value.startswith("+") else _e164(value)
                if e164:
                    self._phones.setdefault(e164, value)
            elif kind == "email":
                self._emails.setdefault(value.lower(), value)
            elif kind == "email_domain":
                self._domains.setdefault(value.lower().lstrip("@"), value)
            elif kind == "company":
                if key := company_normaliser(value):
                    self._companies.setdefault(key, value)
            elif kind == "keyword":
                keywords.append(value)
            else:
                raise ValueError(f"unknown blacklist kind {kind!r}")
        self._keywords: _PhraseIndex[str] = _PhraseIndex((word, word) for word in keywords)
        self.size = len(self._phones) + len(self._emails) + len(self._domains) + len(self._companies) + self._keywords.size

    def match(self, fields: Mapping[str, Any], *, scan: ScanText | None = None) -> list[BlacklistHit]:
        """Every entry the lead hits (`scan` as in `SensitiveWordMatcher.match`)."""
        hits: list[BlacklistHit] = []
        if self._phones:
            for name in ("mobile", "phone"):
                if value := fields.get(name):
                    e164 = value if value.startswith("+") else _e164(value)
                    if e164 in self._phones:
                        hits.append(BlacklistHit("phone", self._phones[e164], name))
        if (self._emails or self._domains) and (email := (fields.get("email") or "").lower()):
            if email in self._emails:
                hits.append(BlacklistHit("email", self._emails[email], "email"))
            domain = email.rpartition("@")[2]
            while self._domains and "." in domain:
                if domain in self._domains:
                    hits.append(BlacklistHit("email_domain", self._domains[domain], "email"))
                    break
                domain = domain.partition(".")[2]
        if self._companies and (company := fields.get("company")):
            key = (
                fields["company_key"]
                if self._company_normaliser is company_key and "company_key" in fields
                else self._company_normaliser(company)
            )
            if key in self._companies:
                hits.append(BlacklistHit("company", self._companies[key], "company"))
        if self._keywords.size:
            if scan is None:
                scan = ScanText.of_fields(fields, self.keyword_fields)
            text, keyword_hits = self._keywords.find(scan)
            seen: set[tuple[str, str]] = set()
            for hit in keyword_hits:
                name = _field_at(text, hit.start, scan.names)
                if (hit.payload, name) not in seen:
                    seen.add((hit.payload, name))
                    hits.append(BlacklistHit("keyword", hit.payload, name))
        return hits

    def reasons(self, fields: Mapping[str, Any], *, scan: ScanText | None = None) -> list[str]:
        """The lead's `blacklist.<kind>` reason codes, each once, in BLACKLIST_KINDS order."""
        kinds = {hit.kind for hit in self.match(fields, scan=scan)}
        return [blacklist_reason(kind) for kind in BLACKLIST_KINDS if kind in kinds]


def _e164(value: str) -> str | None:
    parsed = parse_phone(value)
    return parsed.e164 if parsed is not None else None


# --- blacklist files ---------------------------------------------------------------------------

_KIND_ALIASES = {
    **dict.fromkeys(("phone", "mobile", "tel", "telephone", "手机", "手机号", "手机号码", "电话", "电话号码", "座机", "号码"), "phone"),
    **dict.fromkeys(("email", "e-mail", "mail", "邮箱", "电子邮箱", "邮件", "邮箱地址"), "email"),
    **dict.fromkeys(("email_domain", "domain", "email domain", "邮箱域名", "域名", "邮件域名"), "email_domain"),
    **dict.fromkeys(("company", "公司", "公司名称", "企业", "企业名称", "单位"), "company"),
    **dict.fromkeys(("keyword", "keywords", "word", "关键词", "关键字", "敏感词"), "keyword"),
}
_HEADER_WORDS = frozenset({"kind", "type", "类型", "种类", "分类"})
MAX_FILE_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class BlacklistFileEntry:
    line: int
    kind: str
    value: str  # normalised by blacklist_entry_normalise
    original: str = ""  # the value as written in the file (cleaned)


@dataclass(frozen=True, slots=True)
class BlacklistFileError:
    line: int
    text: str  # the line as read (shortened)
    message: str


@dataclass
class BlacklistFile:
    encoding: str
    entries: list[BlacklistFileEntry] = field(default_factory=list)
    errors: list[BlacklistFileError] = field(default_factory=list)
    duplicate_count: int = 0  # lines repeating an earlier entry (kept once)


def decode_text_file(data: bytes) -> tuple[str, str]:
    """(text, encoding) of an uploaded text file: UTF-8 with or without BOM, UTF-16 with BOM (what
    Excel's "Unicode text" writes), else GB18030 (GBK's superset). ListEntryError otherwise."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        raise ListEntryError(_("文件不是文本：请另存为 CSV 或 TXT（UTF-8 或 GBK 编码）后上传"))
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ListEntryError(_("文件编码无法识别：请另存为 UTF-8 或 GBK 编码"))


def _cells(raw_line: str, line: str) -> list[str]:
    """A row's cells: tab-separated (Excel's "Unicode text") when the line has a tab, else CSV.
    Split before `clean_text` collapses the tabs into spaces."""
    if "\t" in raw_line:
        return [clean_text(cell) for cell in next(csv.reader([raw_line], delimiter="\t"))]
    return [cell.strip() for cell in next(csv.reader([line]))]


def _guess_kind(value: str) -> str | None:
    candidate = clean_text(value).lower()
    if "@" in candidate.lstrip("@"):
        return "email"
    if _LOOKS_LIKE_DOMAIN.match(candidate):
        return "email_domain"
    parsed = parse_phone(candidate) if sum(char.isdigit() for char in candidate) >= 7 else None
    if parsed is not None and parsed.is_valid:
        return "phone"
    return None


def blacklist_file_parse(
    data: bytes,
    *,
    kind: str | None = None,
    company_normaliser: Callable[[str], str] = company_key,
    max_entries: int = MAX_FILE_ENTRIES,
) -> BlacklistFile:
    """Read an uploaded blacklist: one entry a line, or `kind,value` rows (CSV or tab-separated; a
    header row is skipped; kinds in English or Chinese: 手机, 邮箱, 域名, 公司, 关键词). `kind` is the
    kind of lines that do not say theirs; without it phones, e-mails and domains are recognised
    and anything else is an error asking for the kind. Blank lines and `#` comments are skipped.

    Every line gives an entry or an error with its line number; nothing is saved here, so the
    caller can refuse a file with errors whole. Raises ListEntryError when the file cannot be
    read as text at all."""
    if kind is not None and kind not in BLACKLIST_KINDS:
        blacklist_entry_normalise(kind, "")  # raises the unknown-kind message
    text, encoding = decode_text_file(data)
    result = BlacklistFile(encoding=encoding)
    seen: set[tuple[str, str]] = set()
    is_first_row = True
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = clean_text(raw_line)
        if not line or line.startswith("#"):
            continue
        cells = _cells(raw_line, line)
        first = cells[0].lower() if cells else ""
        if is_first_row and first in _HEADER_WORDS:
            is_first_row = False
            continue
        is_first_row = False
        entry_kind: str | None
        if len(cells) >= 2 and first in _KIND_ALIASES:
            entry_kind, value = _KIND_ALIASES[first], ",".join(cells[1:]).strip()
        else:
            value = cells[0] if len(cells) == 1 else line  # "Foo, Inc." is one value
            entry_kind = kind or _guess_kind(value)
            if entry_kind is None:
                result.errors.append(
                    BlacklistFileError(
                        number,
                        _shown(line),
                        _("无法判断“{value}”的类型：请写成“company,公司名”或“keyword,关键词”，或导入时选择类型").format(
                            value=_shown(value)
                        ),
                    )
                )
                continue
        try:
            normalised = blacklist_entry_normalise(entry_kind, value, company_normaliser=company_normaliser)
        except ListEntryError as error:
            result.errors.append(BlacklistFileError(number, _shown(line), error.message))
            continue
        if (entry_kind, normalised) in seen:
            result.duplicate_count += 1
            continue
        if len(result.entries) >= max_entries:
            result.errors.append(
                BlacklistFileError(number, _shown(line), _("文件超过 {limit} 条：请拆分后分批导入").format(limit=max_entries))
            )
            break
        seen.add((entry_kind, normalised))
        result.entries.append(BlacklistFileEntry(line=number, kind=entry_kind, value=normalised, original=clean_text(value)))
    return result


# --- sensitive-word files ----------------------------------------------------------------------

_CATEGORY_ALIASES = {
    **{name: name for name in (TENANT_CATEGORY, *SENSITIVE_CATEGORIES, ALLOW_CATEGORY)},
    **dict.fromkeys(("自定义", "其他", "其它"), TENANT_CATEGORY),
    **dict.fromkeys(("赌博", "博彩", "赌场"), "gambling"),
    **dict.fromkeys(("色情", "黄色", "涉黄"), "pornography"),
    **dict.fromkeys(("诈骗", "欺诈"), "fraud"),
    **dict.fromkeys(("发票", "代开发票"), "invoice"),
    **dict.fromkeys(("武器", "枪支", "军火"), "weapons"),
    **dict.fromkeys(("毒品", "涉毒"), "drugs"),
    **dict.fromkeys(("政治", "涉政"), "political"),
    **dict.fromkeys(("辱骂", "脏话", "粗口"), "profanity"),
    **dict.fromkeys(("例外", "白名单", "放行", "不拦截"), ALLOW_CATEGORY),
}
_WORD_HEADER_WORDS = frozenset({"category", "word", "words", "分类", "类别", "类型", "词", "词语", "敏感词"})


@dataclass(frozen=True, slots=True)
class SensitiveWordFileEntry:
    line: int
    word: str  # normalised by sensitive_word_normalise
    original: str  # as written in the file (cleaned)
    category: str


@dataclass
class SensitiveWordFile:
    encoding: str
    entries: list[SensitiveWordFileEntry] = field(default_factory=list)
    errors: list[BlacklistFileError] = field(default_factory=list)
    duplicate_count: int = 0  # lines repeating an earlier word (kept once)


def sensitive_word_category(name: str) -> str | None:
    """A category as a file or a form names it (English code or Chinese name), or None."""
    return _CATEGORY_ALIASES.get(clean_text(name).lower())


def sensitive_word_file_parse(
    data: bytes, *, category: str = TENANT_CATEGORY, max_entries: int = MAX_FILE_ENTRIES
) -> SensitiveWordFile:
    """Read an uploaded word list: one word a line, or `category,word` rows (categories in
    English or Chinese: 赌博, 色情, 诈骗, 发票, 武器, 毒品, 政治, 辱骂, 自定义, 例外). `category` is the
    category of lines that do not say theirs. A header row, blank lines and `#` comments are
    skipped; every other line gives a word or an error with its line number (as
    `blacklist_file_parse`). Raises ListEntryError when the file cannot be read as text."""
    if sensitive_word_category(category) is None:
        raise ListEntryError(_("未知的敏感词分类“{category}”").format(category=_shown(category)))
    default_category = sensitive_word_category(category) or TENANT_CATEGORY
    text, encoding = decode_text_file(data)
    result = SensitiveWordFile(encoding=encoding)
    seen: set[str] = set()
    is_first_row = True
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = clean_text(raw_line)
        if not line or line.startswith("#"):
            continue
        cells = _cells(raw_line, line)
        if is_first_row and cells and cells[0].lower() in _WORD_HEADER_WORDS:
            is_first_row = False
            continue
        is_first_row = False
        named = sensitive_word_category(cells[0]) if len(cells) >= 2 else None
        word_category, value = (named, ",".join(cells[1:]).strip()) if named else (default_category, line)
        try:
            normalised = sensitive_word_normalise(value)
        except ListEntryError as error:
            result.errors.append(BlacklistFileError(number, _shown(line), error.message))
            continue
        if normalised in seen:
            result.duplicate_count += 1
            continue
        if len(result.entries) >= max_entries:
            result.errors.append(
                BlacklistFileError(number, _shown(line), _("文件超过 {limit} 条：请拆分后分批导入").format(limit=max_entries))
            )
            break
        seen.add(normalised)
        result.entries.append(
            SensitiveWordFileEntry(line=number, word=normalised, original=clean_text(value), category=word_category)
        )
    return result


# --- per-tenant caches -------------------------------------------------------------------------


class _TenantCache(Generic[T]):
    """Matchers by tenant, rebuilt when the tenant's list version changes. Bounded by the number
    of patterns held (a 100,000-word list weighs what it holds), least recently used first out.
    A tenant's matcher is built by one thread at a time; others wait for it rather than build
    the same automaton again."""

    def __init__(self, *, max_patterns: int, max_tenants: int) -> None:
        self.max_patterns = max_patterns
        self.max_tenants = max_tenants
        self._items: OrderedDict[Hashable, tuple[Hashable, T, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self._build_locks: dict[Hashable, threading.Lock] = {}

    def get(self, tenant_id: Hashable, version: Hashable, build: Callable[[], T], weigh: Callable[[T], int]) -> T:
        if (value := self._lookup(tenant_id, version)) is not None:
            return value
        with self._lock:
            build_lock = self._build_locks.setdefault(tenant_id, threading.Lock())
        with build_lock:
            if (value := self._lookup(tenant_id, version)) is not None:
                return value
            value = build()
            weight = max(weigh(value), 1)
            with self._lock:
                if (old := self._items.pop(tenant_id, None)) is not None:
                    self._weight -= old[2]
                self._items[tenant_id] = (version, value, weight)
                self._weight += weight
                while len(self._items) > 1 and (self._weight > self.max_patterns or len(self._items) > self.max_tenants):
                    evicted_id, (_version, _value, evicted_weight) = self._items.popitem(last=False)
                    self._weight -= evicted_weight
                    self._build_locks.pop(evicted_id, None)
            return value

    def _lookup(self, tenant_id: Hashable, version: Hashable) -> T | None:
        with self._lock:
            item = self._items.get(tenant_id)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(tenant_id)
            return item[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._build_locks.clear()
            self._weight = 0


# A 100,000-word list holds ~41 MB (tests/leads/test_cleansing.py prints it), so each cache stays
# under ~150 MB a process however large the lists; a tenant with the built-in list alone weighs
# ~360 patterns. A single list larger than the bound is still kept (alone).
_sensitive_matchers: _TenantCache[SensitiveWordMatcher] = _TenantCache(max_patterns=350_000, max_tenants=2048)
_blacklist_matchers: _TenantCache[BlacklistMatcher] = _TenantCache(max_patterns=350_000, max_tenants=2048)


def sensitive_word_matcher_for(
    *,
    tenant_id: Hashable,
    version: Hashable,
    load_words: Callable[[], Iterable[TenantWord]],
    include_builtin: bool = True,
) -> SensitiveWordMatcher:
    """The tenant's matcher for this version of its word list; `load_words` is called only when
    it must be built. `version` must change whenever the list does (e.g. a counter bumped in the
    transaction that edits the list), or this process keeps matching the old list."""
    return _sensitive_matchers.get(
        tenant_id,
        (version, include_builtin),
        lambda: SensitiveWordMatcher(load_words(), include_builtin=include_builtin),
        lambda matcher: matcher.size,
    )


def blacklist_matcher_for(
    *,
    tenant_id: Hashable,
    version: Hashable,
    load_entries: Callable[[], Iterable[tuple[str, str]]],
    company_normaliser: Callable[[str], str] = company_key,
) -> BlacklistMatcher:
    """The tenant's blacklist matcher for this version of its entries (see
    `sensitive_word_matcher_for` for `version`)."""
    return _blacklist_matchers.get(
        tenant_id,
        (version, company_normaliser),
        lambda: BlacklistMatcher(load_entries(), company_normaliser=company_normaliser),
        lambda matcher: matcher.size,
    )


def clear_matcher_caches() -> None:
    _sensitive_matchers.clear()
    _blacklist_matchers.clear()
    _matcher_for_words.cache_clear()
