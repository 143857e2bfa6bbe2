"""Lead filters, shared by the API list and the workbench list page."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import django_filters
from django.db.models import Case, Q, QuerySet, Value
from django.db.models.functions import StrIndex
from django.utils.translation import gettext_lazy as _

from leads.models import Grade, Lead, LeadStatus, Tier, score_rank
from leads.normalization import is_cjk_pair

TRIGRAM_MIN_LENGTH = 3


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO-8601 in any offset; compared in UTC (PostgreSQL refuses offsets past ±15:59)."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


def _email_begins(value: str) -> Q:
    # `email <> ''` repeats the e-mail index's predicate: without it PostgreSQL cannot use that
    # partial index for the prefix, and a search ORed with it walked the whole tenant.
    return Q(email__startswith=value) & ~Q(email="")


# Integrators read these in the API docs; the labels are the page's. No Chinese here: the API
# speaks English (example values go in the schema's examples, leads/api/schema.py).
Q_HELP_TEXT = (
    "Part of a name, company, phone number or WeChat id (two Chinese characters are enough), or the beginning "
    "of an e-mail address. Case-insensitive."
)
_REPEAT = "Repeat the parameter for several values (OR)."
_SCORED_ONLY = "Leads not scored yet never match."
_BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]
# The combined groups, A1 … D3: static grade by dynamic level (SPEC §4).
GROUP_CHOICES = [(f"{grade}{level}", f"{grade}{level}") for grade in Grade.values for level in (1, 2, 3)]
IS_SCORED = Q(scored_at__isnull=False)


class ScoredMultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    """A filter on a score column: a lead not scored yet holds the columns' defaults (D, cold,
    level 3, 0 points), which it was never given, so it never matches."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        filtered = super().filter(qs, value)
        return filtered.filter(IS_SCORED) if value else filtered


class ScoredNumberFilter(django_filters.NumberFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        filtered = super().filter(qs, value)
        return filtered.filter(IS_SCORED) if value is not None else filtered


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=LeadStatus.choices, distinct=False, label=_("状态"), help_text=f"Lead status. {_REPEAT}"
    )
    grade = ScoredMultipleChoiceFilter(
        choices=Grade.choices, distinct=False, label=_("等级"),
        help_text=f"Static (profile) grade, A best. {_REPEAT} {_SCORED_ONLY}",
    )
    tier = ScoredMultipleChoiceFilter(
        choices=Tier.choices, distinct=False, label=_("热度"), help_text=f"Tier by total score. {_REPEAT} {_SCORED_ONLY}"
    )
    group = django_filters.MultipleChoiceFilter(
        choices=GROUP_CHOICES, method="filter_group", label=_("分组"),
        help_text=f"Combined group: static grade and dynamic level, e.g. `B1`. {_REPEAT} {_SCORED_ONLY}",
    )
    mature = django_filters.ChoiceFilter(
        choices=_BOOLEAN_CHOICES, method="filter_mature", label=_("成熟度"),
        help_text=f"`true`: only leads at or above the maturity threshold; `false`: only those below. "
        f"{_SCORED_ONLY}",
    )
    scored = django_filters.ChoiceFilter(
        choices=_BOOLEAN_CHOICES, method="filter_scored", label=_("评分状态"),
        help_text="`false`: only leads not scored yet (their `score.scored_at` is null); `true`: only scored leads.",
    )
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("负责人"), help_text="User id of the owner.")
    unassigned = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_unassigned", label=_("未分配"),
        help_text="`true`: only leads without an owner; `false`: only leads with one.",
    )
    pool = django_filters.NumberFilter(field_name="pool_id", label=_("线索池"), help_text="Id of the lead pool.")
    source = django_filters.CharFilter(
        field_name="source", label=_("来源"), help_text="Source, exactly as submitted (case-sensitive)."
    )
    province = django_filters.CharFilter(
        field_name="province", label=_("省份"), help_text="Province as stored (normalised on intake), exactly."
    )
    min_score = ScoredNumberFilter(
        field_name="score_total", lookup_expr="gte", label=_("最低分"),
        help_text=f"Lowest total score, 0 to 100 (inclusive). {_SCORED_ONLY}",
    )
    max_score = ScoredNumberFilter(
        field_name="score_total", lookup_expr="lte", label=_("最高分"),
        help_text=f"Highest total score, 0 to 100 (inclusive). {_SCORED_ONLY}",
    )
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("创建晚于"),
        help_text="Created at or after this ISO-8601 time, e.g. 2026-11-01T00:00:00+08:00 (any offset).",
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("创建早于"),
        help_text="Created before this ISO-8601 time (any offset).",
    )
    external_id = django_filters.CharFilter(
        field_name="external_id", help_text="Your own id of the lead, as sent in `external_id`; exact."
    )
    mobile = django_filters.CharFilter(
        method="filter_mobile", help_text="Mobile number in any common format, matched as E.164 (+8613912340586)."
    )
    email = django_filters.CharFilter(method="filter_email", help_text="E-mail address, whole; case-insensitive.")
    q = django_filters.CharFilter(method="filter_q", label=_("搜索"), help_text=Q_HELP_TEXT)

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_group(self, queryset: QuerySet[Lead], name: str, value: list[str]) -> QuerySet[Lead]:
        if not value:
            return queryset
        cells = Q()
        for group in value:
            cells |= Q(grade=group[0], level=int(group[1]))
        return queryset.filter(cells & IS_SCORED)

    def filter_mature(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.filter(IS_SCORED, is_mature=value == "true")

    def filter_scored(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.filter(scored_at__isnull=value != "true")

    def filter_unassigned(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.filter(owner__isnull=value == "true")

    def filter_q(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        value = value.strip().lower()
        if not value:
            return queryset
        if "@" in value:
            # An e-mail, whole or its beginning (zhang.wei@, zhang.wei@16): the e-mail index's
            # prefix range. Names and numbers hold no "@".
            return queryset.filter(_email_begins(value))
        if is_cjk_pair(value):
            # Two Chinese characters (王伟, 华为) have no trigram; they have a bigram index. For a
            # common pair (科技) PostgreSQL walks the list's own index instead, by its statistics.
            return queryset.filter(search_bigrams__contains=[value])
        # Text without spaces may also begin an e-mail address (zhangwei → zhangwei@163.com).
        by_email = _email_begins(value) if " " not in value and value.isascii() else Q()
        if len(value) < TRIGRAM_MIN_LENGTH:
            # Other one- or two-character terms give the indexes nothing to look up: walking the
            # list's own index in display order finds a page of matches (quickly, if they are common).
            in_text = Q(q_position__gt=0)
            return queryset.alias(q_position=StrIndex("search_text", Value(value))).filter(in_text | by_email)
        return queryset.filter(Q(search_text__contains=value) | by_email)

    def filter_mobile(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        from leads.normalization import parse_phone

        parsed = parse_phone(value)
        return queryset.filter(mobile=parsed.e164 if parsed else value)

    def filter_email(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.filter(email=value.strip().lower())


SCORE_RANK_DESC = score_rank(-1)
SCORE_RANK_ASC = score_rank(1000)
# Sort keys that are expressions: the keyset pager annotates them under these names.
SORT_EXPRESSIONS: dict[str, Case] = {"score_rank_desc": SCORE_RANK_DESC, "score_rank_asc": SCORE_RANK_ASC}

ORDERING_CHOICES: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-score": ("-score_rank_desc", "-id"),
    "score": ("score_rank_asc", "id"),
}


def with_sort_keys(queryset: QuerySet[Lead], ordering: tuple[str, ...]) -> QuerySet[Lead]:
    """`queryset` with the expression its `ordering` sorts by, if any, as a column of each row."""
    name = ordering[0].lstrip("-")
    if name in SORT_EXPRESSIONS:
        return queryset.annotate(**{name: SORT_EXPRESSIONS[name]})
    return queryset


def ordering_for(value: Any) -> tuple[str, ...]:
    return ORDERING_CHOICES.get(str(value or ""), ORDERING_CHOICES["-created_at"])
