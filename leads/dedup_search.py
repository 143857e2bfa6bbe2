"""The duplicate search tool (查重工具, SPEC §3): who already has this contact or this company,
and a way to ask the owner for the lead.

A rep types a mobile, an e-mail, a WeChat id, a company or a contact's name, in any of the
forms intake accepts, and learns which leads exist and who owns them. A lead the rep may not
see is still reported (that is the point: it tells the rep whom to ask instead of entering a
duplicate) but with its contact details masked and no link; the rep can then ask its owner to
hand it over (`lead_transfer_request`), which is audited on the lead and e-mailed to the owner.

Every criterion is looked up through an index: the (tenant, mobile|email|wechat) btrees for the
exact contacts; for a company, `lead_company_matches` (candidates by the brand through the
search indexes, decided by `leads.matching.same_company`); for a name alone, the search indexes
again, decided by `person_name_key`. Another tenant's leads are never found: every query goes
through the tenant-scoped manager (and row-level security behind it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from opencc_purepy import OpenCC

from leadcrm.tenancy.models import AuditLog, Membership, Role, Tenant
from leadcrm.tenancy.scoping import current_tenant_id
from leadcrm.tenancy.services import audit_log_record
from leads.intake.dedup_config import dedup_snapshot
from leads.masking import mask_digits, mask_email, mask_text
from leads.matching import fold, lookup_brands, lookup_ranges, person_name_key, same_company, same_person
from leads.models import TRANSFER_REQUEST_ACTION, Lead, LeadStatus
from leads.normalization import clean_text, email_is_valid, is_cjk_pair, normalise_email, parse_phone
from leads.selectors import lead_is_visible_to, lead_pool_names, owner_labels

RESULT_LIMIT = 50
# The most leads one criterion reads. A company's candidates are decided in Python, so a common
# brand ("华为") must not pull tens of thousands of rows: past this many the newest are checked
# and the answer says the list may be incomplete.
CANDIDATE_CAP = 200
TRIGRAM_MIN_LENGTH = 3
# Above this many expected matches a criterion is read newest first along the created-at index
# (see `_newest`); below, through its own index. Reading N matches through their index visits N
# heap pages; the walk visits about cap × tenant size / N: for 200 of 1,000,000 leads the two
# cost the same near N = 14,000.
WALK_ESTIMATE = 10_000

MatchField = Literal["mobile", "email", "wechat", "company", "name"]
MatchKind = Literal["exact", "fuzzy", "fuzzy_with_name"]

# (field, kind) in the order a lead found several ways is reported by: the surest first.
_MATCH_ORDER: tuple[tuple[MatchField, MatchKind], ...] = (
    ("mobile", "exact"), ("email", "exact"), ("wechat", "exact"), ("company", "fuzzy_with_name"),
    ("company", "fuzzy"), ("name", "exact"),
)
MATCH_LABELS: dict[tuple[str, str], Promise] = {
    ("mobile", "exact"): _("手机号相同"),
    ("email", "exact"): _("邮箱相同"),
    ("wechat", "exact"): _("微信号相同"),
    ("company", "fuzzy_with_name"): _("同一公司（模糊）且联系人相同"),
    ("company", "fuzzy"): _("同一公司（模糊）"),
    ("name", "exact"): _("联系人姓名相同"),
}
_LEAD_COLUMNS = (
    "id", "tenant_id", "name", "company", "mobile", "phone", "email", "wechat", "status", "owner_id", "pool_id",
    "created_at",
)
_S2T = OpenCC("s2t")


# --- input ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateQuery:
    """The criteria as intake would store them (E.164 mobile, lower-case e-mail, half-width)."""

    mobile: str = ""
    email: str = ""
    wechat: str = ""
    company: str = ""
    name: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.mobile or self.email or self.wechat or self.company or self.name)


CRITERIA = ("mobile", "email", "wechat", "company", "name")
_MAX_LENGTHS = {"mobile": 40, "email": 254, "wechat": 64, "company": 200, "name": 100}
NO_CRITERION_MESSAGE = _("请至少填写一项：手机号、邮箱、微信号、公司或联系人姓名。")


def duplicate_query_parse(
    *, mobile: str = "", email: str = "", wechat: str = "", company: str = "", name: str = ""
) -> DuplicateQuery:
    """The criteria normalised like intake normalises a lead, or a ValidationError naming each
    field that is not what it says (a mobile that is not one, an e-mail that is not one…)."""
    raw = {"mobile": mobile, "email": email, "wechat": wechat, "company": company, "name": name}
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for field, value in raw.items():
        text = clean_text(value)
        if len(text) > _MAX_LENGTHS[field]:
            errors[field] = [gettext("最多 %(count)d 个字符。") % {"count": _MAX_LENGTHS[field]}]
        else:
            values[field] = text
    if mobile_text := values.get("mobile"):
        parsed = parse_phone(mobile_text)
        if parsed is None or not parsed.is_valid or not parsed.is_mobile:
            errors["mobile"] = [gettext("这不是有效的手机号，请检查后重新输入（例如 139 1234 5678）。")]
        else:
            values["mobile"] = parsed.e164
    if email_text := values.get("email"):
        values["email"] = normalise_email(email_text)
        if not email_is_valid(values["email"]):
            errors["email"] = [gettext("这不是有效的邮箱地址（例如 zhang.wei@163.com）。")]
    if (wechat_text := values.get("wechat")) and " " in wechat_text:
        errors["wechat"] = [gettext("微信号中不能有空格。")]
    if (company_text := values.get("company")) and not lookup_brands(company_text):
        errors["company"] = [
            gettext("没能从中认出公司的字号：请至少输入公司名称中的两个字，例如「纷扬」或「北京纷扬科技」。")
        ]
    if name_text := values.get("name"):
        key = person_name_key(name_text)
        if not key:
            errors["name"] = [gettext("请输入联系人的姓名。")]
        elif not values.get("company") and not _name_terms(name_text, key):
            # Alone, a name must give the search indexes something: one Chinese character does not.
            errors["name"] = [gettext("只按姓名查重时，请输入完整的姓名（至少两个字）。")]
    if errors:
        raise ValidationError(errors)
    query = DuplicateQuery(**values)
    if query.is_empty:
        raise ValidationError({NON_FIELD_ERRORS: [str(NO_CRITERION_MESSAGE)]})
    return query


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateMatch:
    lead: Lead
    field: MatchField
    kind: MatchKind
    owner_name: str  # "" when the lead has no owner
    pool_name: str  # the pool of a lead without an owner, when known
    is_visible: bool  # the caller may open the lead; otherwise contacts come masked

    @property
    def label(self) -> str:
        return str(MATCH_LABELS[(self.field, self.kind)])

    @property
    def mobile(self) -> str:
        """E.164, or masked keeping its country code (+86139****0586)."""
        return self.lead.mobile if self.is_visible else mask_digits(self.lead.mobile)

    @property
    def mobile_display(self) -> str:
        """How a Chinese rep reads a mobile: 139 1234 5678, or masked 139****0586."""
        number = self.lead.mobile
        local = number[3:] if number.startswith("+86") and len(number) == 14 else number
        if not self.is_visible:
            return mask_digits(local)
        return f"{local[:3]} {local[3:7]} {local[7:]}" if local != number else number

    @property
    def phone(self) -> str:
        return self.lead.phone if self.is_visible else mask_digits(self.lead.phone)

    @property
    def email(self) -> str:
        return self.lead.email if self.is_visible else mask_email(self.lead.email)

    @property
    def wechat(self) -> str:
        return self.lead.wechat if self.is_visible else mask_text(self.lead.wechat)

    @property
    def status_label(self) -> str:
        status = self.lead.status
        return str(LeadStatus(status).label) if status in LeadStatus.values else status


@dataclass(frozen=True)
class DuplicateSearchResult:
    matches: list[DuplicateMatch]  # newest first, at most the limit
    more_count: int  # matches found beyond `matches` (at least this many when `is_truncated`)
    is_truncated: bool  # some leads were not read: more matches may exist than were counted

    @property
    def has_more(self) -> bool:
        return self.more_count > 0 or self.is_truncated


@dataclass(frozen=True)
class CompanyMatches:
    leads: list[Lead]  # newest first
    is_capped: bool  # more candidates existed than were checked


def _traditional(text: str) -> str:
    """The Traditional spelling of a Simplified term: leads keep the company as typed, so a
    Hong Kong or Taiwan form is found by its own characters in the search columns."""
    return _S2T.convert(text) if not text.isascii() else text


def _term_condition(terms: Iterable[str]) -> Q:
    """Leads whose search columns contain one of `terms`: a pair of Chinese characters through
    the bigram index, three characters or more through the trigram index. Each branch names the
    tenant, so each index is entered by tenant too (an OR does not carry the outer filter in)."""
    tenant_id = current_tenant_id()
    condition = Q(pk__in=[])
    for term in sorted(set(terms)):
        # `@>` one pair at a time rather than `&&` all at once: under row-level security only
        # LEAKPROOF operators may enter an index, and `arraycontains` is one (migration 0005).
        if is_cjk_pair(term):
            condition |= Q(tenant_id=tenant_id, search_bigrams__contains=[term])
        elif len(term) >= TRIGRAM_MIN_LENGTH:
            condition |= Q(tenant_id=tenant_id, search_text__contains=term)
    return condition


def _newest(condition: Q, *, cap: int) -> tuple[list[Lead], bool]:
    """The newest `cap` leads matching `condition`, and whether there were more.

    Left to itself, PostgreSQL answers "newest N matching" by walking the (tenant, created_at)
    index until N rows pass the filter: quick when matches are common and spread over time, a
    walk of the whole tenant when they are rare or all old (a company that stopped writing in a
    year ago). So the matches are read through the criterion's own index first (a materialised
    CTE: cost in proportion to the matches), then sorted; only when PostgreSQL expects more
    matches than that is worth (a brand that is also a common word) does the walk go ahead."""
    matching = Lead.objects.filter(condition)
    ordered = matching.only(*_LEAD_COLUMNS).order_by("-created_at", "-id")
    estimate = json.loads(matching.values_list("id").explain(format="json"))[0]["Plan"]["Plan Rows"]
    if estimate > WALK_ESTIMATE:
        rows = list(ordered[: cap + 1])
    else:
        sql, params = matching.values_list("id", "created_at").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH hits AS MATERIALIZED ({sql}) SELECT id FROM hits ORDER BY created_at DESC, id DESC LIMIT %s",
                [*params, cap + 1],
            )
            ids = [row[0] for row in cursor.fetchall()]
        rows = list(ordered.filter(id__in=ids)) if ids else []
    return rows[:cap], len(rows) > cap


def lead_company_matches(*, company: str, cap: int = CANDIDATE_CAP) -> CompanyMatches:
    """The tenant's leads of the same company as `company` (`same_company`: "北京纷扬" finds
    "北京纷扬科技有限公司" and "北京紛揚科技", not "北京纷享"), newest first.

    The one place the search tool looks companies up: the brand ranges of
    `leads.matching.lookup_ranges` (the brand, the brands extending it, the shorter brands it
    extends) over the (tenant, company_brand, name_key) index intake's duplicate rules use, with
    the tenant's company aliases; the newest `cap` candidates are decided by `same_company`."""
    aliases = dedup_snapshot(tenant_id=current_tenant_id() or 0).aliases  # cached per tenant version
    ranges = lookup_ranges(company, aliases)
    if not ranges:
        return CompanyMatches(leads=[], is_capped=False)
    in_ranges = Q()
    for low, high in ranges:
        in_ranges |= Q(company_brand=low) if low == high else Q(company_brand__gte=low, company_brand__lte=high)
    # `<> ''` repeats the partial index's predicate, so that PostgreSQL may use the index.
    condition = Q(tenant_id=current_tenant_id()) & ~Q(company_brand="") & in_ranges
    candidates, is_capped = _newest(condition, cap=cap)
    return CompanyMatches(
        leads=[lead for lead in candidates if lead.company and same_company(company, lead.company, aliases)],
        is_capped=is_capped,
    )


def _name_terms(name: str, key: str) -> set[str]:
    """What the search columns must contain for a lead to have this contact name."""
    if any(not char.isascii() for char in key):  # a Chinese name: its characters, as keyed
        return {term for term in (key, _traditional(key)) if len(term) >= 2}
    # A romanised name keys on its sorted letters; its longest word still occurs in the text.
    words = sorted((word for word in fold(name).replace(",", " ").split() if len(word) >= TRIGRAM_MIN_LENGTH), key=len)
    return {words[-1]} if words else set()


def _lead_name_matches(*, name: str, cap: int) -> tuple[list[Lead], bool]:
    key = person_name_key(name)
    candidates, is_capped = _newest(_term_condition(_name_terms(name, key)), cap=cap)
    return [lead for lead in candidates if person_name_key(lead.name) == key], is_capped


def _exact_matches(field: str, value: str, *, cap: int) -> tuple[list[Lead], bool]:
    values = sorted({value, value.lower()}) if field == "wechat" else [value]
    # `<> ''` repeats the partial index's predicate, so that PostgreSQL may use the index.
    condition = Q(**{f"{field}__in": values}) & ~Q(**{field: ""})
    # A contact's leads are few: its own index finds them all, and the sort is of a handful.
    rows = list(Lead.objects.filter(condition).only(*_LEAD_COLUMNS).order_by("-created_at", "-id")[: cap + 1])
    return rows[:cap], len(rows) > cap


def duplicate_search(
    *,
    membership: Membership | None,
    mobile: str = "",
    email: str = "",
    wechat: str = "",
    company: str = "",
    name: str = "",
    limit: int = RESULT_LIMIT,
    cap: int = CANDIDATE_CAP,
) -> DuplicateSearchResult:
    """Leads of the current tenant matching any criterion (a name alone when no company is given,
    otherwise the name tells which company matches are the same contact), each with how it
    matched, its owner's name and whether `membership` may see it (None: an API key, sees all).
    Raises ValidationError for missing or malformed criteria (see `duplicate_query_parse`)."""
    query = duplicate_query_parse(mobile=mobile, email=email, wechat=wechat, company=company, name=name)
    found: dict[int, tuple[Lead, MatchField, MatchKind]] = {}
    truncated = False

    def add(leads: list[Lead], field: MatchField, kind: Callable[[Lead], MatchKind] | MatchKind) -> None:
        for lead in leads:
            how = (field, kind(lead) if callable(kind) else kind)
            known = found.get(lead.id)
            if known is None or _MATCH_ORDER.index(how) < _MATCH_ORDER.index((known[1], known[2])):
                found[lead.id] = (lead, *how)

    exact_fields: tuple[MatchField, ...] = ("mobile", "email", "wechat")
    for field in exact_fields:
        if value := getattr(query, field):
            leads, capped = _exact_matches(field, value, cap=cap)
            add(leads, field, "exact")
            truncated |= capped
    if query.company:
        companies = lead_company_matches(company=query.company, cap=cap)
        contact = query.name

        def company_kind(lead: Lead) -> MatchKind:
            return "fuzzy_with_name" if contact and same_person(contact, lead.name) else "fuzzy"

        add(companies.leads, "company", company_kind)
        truncated |= companies.is_capped
    elif query.name:
        leads, capped = _lead_name_matches(name=query.name, cap=cap)
        add(leads, "name", "exact")
        truncated |= capped

    ordered = sorted(found.values(), key=lambda item: (item[0].created_at, item[0].id), reverse=True)
    shown = ordered[:limit]
    owners = owner_labels(user_ids={lead.owner_id for lead, _, _ in shown if lead.owner_id})
    pools = lead_pool_names() if any(lead.owner_id is None and lead.pool_id for lead, _, _ in shown) else {}
    matches = [
        DuplicateMatch(
            lead=lead, field=field, kind=kind,
            owner_name=owners[lead.owner_id].name if lead.owner_id in owners else "",
            pool_name=pools.get(lead.pool_id or 0, ""),
            is_visible=lead_is_visible_to(lead=lead, membership=membership),
        )
        for lead, field, kind in shown
    ]
    return DuplicateSearchResult(matches=matches, more_count=len(ordered) - len(shown), is_truncated=truncated)


# --- asking the owner for the lead ----------------------------------------------------------------

TRANSFER_REQUEST_WINDOW = dt.timedelta(hours=24)
TRANSFER_REQUESTS_PER_DAY = 20
TRANSFER_MESSAGE_MAX_LENGTH = 500


class TransferRequestNotFound(Exception):
    """No such lead in the tenant (another tenant's looks the same)."""


class TransferRequestRefused(Exception):
    """The request cannot be made; `message` says why, in the words a person reads (the API
    renders it in English)."""

    code = "refused"

    def __init__(self, message: Promise | str) -> None:
        self.message = message
        super().__init__(str(message))


class TransferRequestAlreadyOwner(TransferRequestRefused):
    code = "already_owner"


class TransferRequestNoOwner(TransferRequestRefused):
    code = "no_owner"


class TransferRequestOwnerGone(TransferRequestRefused):
    code = "owner_gone"


class TransferRequestNotAllowed(TransferRequestRefused):
    code = "not_allowed"


class TransferRequestRateLimited(TransferRequestRefused):
    code = "rate_limited"

    def __init__(self, message: Promise | str, *, retry_after: dt.timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class TransferRequest:
    lead: Lead
    owner_id: int
    owner_name: str
    requested_at: dt.datetime
    is_repeat: bool  # already asked within 24 hours: nothing new was recorded or sent


def transfer_requests_recent(*, user_id: int, lead_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """When `user_id` last asked for each of `lead_ids` within the last 24 hours (for the
    search page's "asked" state). One query on the audit log's (object_type, object_id) index."""
    ids = [str(lead_id) for lead_id in lead_ids]
    if not ids:
        return {}
    rows = AuditLog.objects.filter(
        object_type="lead", object_id__in=ids, action=TRANSFER_REQUEST_ACTION, actor_id=user_id,
        created_at__gte=timezone.now() - TRANSFER_REQUEST_WINDOW,
    ).values_list("object_id", "created_at")
    latest: dict[int, dt.datetime] = {}
    for object_id, created_at in rows:
        lead_id = int(object_id)
        latest[lead_id] = max(created_at, latest.get(lead_id, created_at))
    return latest


def _transfer_email(
    *, tenant: Tenant, lead: Lead, owner: User, owner_name: str, requester: User, requester_name: str, message: str,
    lead_url: str,
) -> EmailMessage:
    """The owner's e-mail, in the tenant's language (the owner reads it outside the app)."""
    with translation.override(tenant.locale or "zh-hans"):
        lead_label = " · ".join(part for part in (lead.name, lead.company) if part) or f"#{lead.id}"
        subject = gettext("%(requester)s 请求接手你的线索：%(lead)s") % {"requester": requester_name, "lead": lead_label}
        lines = [
            gettext("%(owner)s，你好：") % {"owner": owner_name},
            "",
            gettext("%(requester)s 在查重时发现了你负责的线索，请求转给他/她跟进。")
            % {"requester": requester_name},
            "",
            gettext("线索：%(lead)s（编号 #%(id)s）") % {"lead": lead_label, "id": lead.id},
        ]
        if message:
            lines.append(gettext("留言：%(message)s") % {"message": message})
        if lead_url:
            lines.append(gettext("查看线索：%(url)s") % {"url": lead_url})
        lines += [
            "",
            gettext("如同意转交，请在线索页或请销售经理把负责人改为 %(requester)s；如不同意，直接回复这封邮件即可。")
            % {"requester": requester_name},
            "",
            f"— LeadCRM · {tenant.name}",
        ]
    return EmailMessage(
        subject=f"[LeadCRM] {subject}", body="\n".join(lines), to=[owner.email],
        reply_to=[requester.email] if requester.email else None,
    )


@transaction.atomic
def lead_transfer_request(
    *, tenant: Tenant, lead_id: int, requested_by: User, message: str = "", lead_url: str = ""
) -> TransferRequest:
    """Ask a lead's owner to hand it over: audited on the lead (`lead.transfer_request`, shown
    on its timeline) and e-mailed to the owner once the transaction commits.

    Idempotent within 24 hours per person and lead: a repeat records and sends nothing and
    answers with the first request. Refused (TransferRequestRefused) for a lead the requester
    owns, a lead without an owner (it is in a pool: claim it there), an owner who has left the
    team, a read-only member, and past `TRANSFER_REQUESTS_PER_DAY` requests in 24 hours."""
    message = " ".join(clean_text(message).split()) if message else ""
    if len(message) > TRANSFER_MESSAGE_MAX_LENGTH:
        raise ValidationError(
            {"message": [gettext("留言最多 %(count)d 个字。") % {"count": TRANSFER_MESSAGE_MAX_LENGTH}]}
        )
    # The requester's membership row, locked: one person's requests run one at a time, so two
    # clicks cannot both pass the 24-hour check or the daily limit.
    requester = Membership.objects.select_for_update().filter(user_id=requested_by.id, is_active=True).first()
    if requester is None:
        raise TransferRequestNotFound()
    lead = Lead.objects.filter(id=lead_id).only(*_LEAD_COLUMNS).first()
    if lead is None:
        raise TransferRequestNotFound()
    if requester.role == Role.READ_ONLY:
        raise TransferRequestNotAllowed(_("只读成员不能接手线索。"))
    if lead.owner_id == requested_by.id:
        raise TransferRequestAlreadyOwner(_("这条线索已经由你负责，无需请求。"))
    if lead.owner_id is None:
        raise TransferRequestNoOwner(_("这条线索在线索池中，暂无负责人：请到线索池领取。"))
    owner_member = Membership.objects.filter(user_id=lead.owner_id, is_active=True).select_related("user").first()
    if owner_member is None:
        raise TransferRequestOwnerGone(_("这条线索的负责人已不在团队中，请联系销售经理重新分配。"))
    names = owner_labels(user_ids={lead.owner_id, requested_by.id})
    owner_name, requester_name = names[lead.owner_id].name, names[requested_by.id].name

    now = timezone.now()
    since = now - TRANSFER_REQUEST_WINDOW
    if earlier := transfer_requests_recent(user_id=requested_by.id, lead_ids=[lead.id]).get(lead.id):
        return TransferRequest(
            lead=lead, owner_id=lead.owner_id, owner_name=owner_name, requested_at=earlier, is_repeat=True
        )
    recent = list(
        AuditLog.objects.filter(action=TRANSFER_REQUEST_ACTION, actor_id=requested_by.id, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)[:TRANSFER_REQUESTS_PER_DAY]
    )
    if len(recent) >= TRANSFER_REQUESTS_PER_DAY:
        raise TransferRequestRateLimited(
            _("24 小时内最多发出 %(count)d 个请求，已达上限。请稍后再试，或直接联系负责人。")
            % {"count": TRANSFER_REQUESTS_PER_DAY},
            retry_after=recent[0] + TRANSFER_REQUEST_WINDOW - now,
        )
    entry = audit_log_record(
        tenant=tenant, action=TRANSFER_REQUEST_ACTION, object_type="lead", object_id=lead.id, actor=requested_by,
        changes={"owner": lead.owner_id, "message": message},
    )
    email = _transfer_email(
        tenant=tenant, lead=lead, owner=owner_member.user, owner_name=owner_name, requester=requested_by,
        requester_name=requester_name, message=message, lead_url=lead_url,
    )
    # After the commit: a request that rolls back sends nothing. `robust`: a mail server that is
    # down is logged, and the recorded request stands (it shows on the lead's timeline).
    transaction.on_commit(email.send, robust=True)
    return TransferRequest(
        lead=lead, owner_id=lead.owner_id, owner_name=owner_name, requested_at=entry.created_at, is_repeat=False
    )
