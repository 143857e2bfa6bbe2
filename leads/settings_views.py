"""The admin pages "清洗规则 / Cleansing" (/<tenant>/settings/cleansing…): the blacklist, the
tenant's sensitive words with the built-in lexicon, and what a sensitive word does.

Owners and admins only: other members get a page saying who may (403). Every action is a plain
POST form with CSRF, so the pages work without JavaScript; with htmx the forms swap only the
tab's panel (`#cleansing-panel`, picked out of the same response) and the lists filter as
you type (the `*-table` partials). A successful change redirects back (POST → redirect → GET);
a form with errors is shown again with each message next to its field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leadcrm.tenancy.models import ADMIN_ROLES, Membership
from leads.cleansing import BlacklistFileError, blacklist_reason
from leads.cleansing_selectors import (
    SENSITIVE_TAG,
    blacklist_counts_by_kind,
    blacklist_entry_list,
    builtin_lexicon_summary,
    cleansing_policy_get,
    sensitive_word_count,
    sensitive_word_list,
)
from leads.cleansing_services import (
    MAX_BLACKLIST_ENTRIES,
    MAX_LIST_FILE_BYTES,
    MAX_SENSITIVE_WORDS,
    CleansingEntryExists,
    ListImportRefused,
    ListImportReport,
    blacklist_entry_add,
    blacklist_entry_delete,
    blacklist_import,
    cleansing_policy_update,
    sensitive_word_add,
    sensitive_word_delete,
    sensitive_word_import,
)
from leads.models import BlacklistEntry, BlacklistKind, SensitiveAction, SensitiveWord, SensitiveWordCategory
from leads.selectors import PersonLabel, owner_labels

PAGE_SIZE = 50
KIND_HINTS = {
    BlacklistKind.PHONE: gettext_lazy("手机号或带区号的座机，如 138 1234 5678、010-6234 5578"),
    BlacklistKind.EMAIL: gettext_lazy("完整的邮箱地址，如 zhang@example.com"),
    BlacklistKind.EMAIL_DOMAIN: gettext_lazy("邮箱域名，如 spam.cn（同时拦截它的子域名）"),
    BlacklistKind.COMPANY: gettext_lazy("公司名称，去掉地区和“有限公司”等后缀后比较"),
    BlacklistKind.KEYWORD: gettext_lazy("出现在姓名、公司、备注等任一文字字段中即拦截"),
}


def _with_blank(label: Any, choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", label), *choices]


# --- forms ----------------------------------------------------------------------------------------


class BlacklistEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=BlacklistKind.choices, initial=BlacklistKind.PHONE)
    value = forms.CharField(max_length=300, error_messages={"required": gettext_lazy("请填写要拦截的号码、邮箱、域名、公司或关键词")})
    note = forms.CharField(max_length=200, required=False)


class ListImportForm(forms.Form):
    file = forms.FileField(error_messages={"required": gettext_lazy("请选择要上传的文件"), "empty": gettext_lazy("文件是空的")})
    skip_invalid = forms.BooleanField(required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_LIST_FILE_BYTES:
            raise forms.ValidationError(_("文件太大：最多 {limit} MB").format(limit=MAX_LIST_FILE_BYTES // 1_000_000))
        return upload


class BlacklistImportForm(ListImportForm):
    kind = forms.ChoiceField(
        required=False, choices=_with_blank(gettext_lazy("按每行内容识别"), BlacklistKind.choices)
    )
    note = forms.CharField(max_length=200, required=False)


class SensitiveWordForm(forms.Form):
    word = forms.CharField(max_length=100, error_messages={"required": gettext_lazy("请填写要拦截的词")})
    category = forms.ChoiceField(choices=SensitiveWordCategory.choices, initial=SensitiveWordCategory.CUSTOM)


class SensitiveWordImportForm(ListImportForm):
    category = forms.ChoiceField(choices=SensitiveWordCategory.choices, initial=SensitiveWordCategory.CUSTOM)


class BlacklistFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=_with_blank(gettext_lazy("全部类型"), BlacklistKind.choices))
    q = forms.CharField(required=False, max_length=100, strip=True)


class WordFilterForm(forms.Form):
    category = forms.ChoiceField(
        required=False, choices=_with_blank(gettext_lazy("全部分类"), SensitiveWordCategory.choices)
    )
    q = forms.CharField(required=False, max_length=100, strip=True)


class PolicyForm(forms.Form):
    sensitive_action = forms.ChoiceField(
        choices=SensitiveAction.choices, widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择命中敏感词时的处理方式")},
    )
    use_builtin_words = forms.BooleanField(required=False)


class BuiltinSwitchForm(forms.Form):
    use_builtin_words = forms.BooleanField(required=False)


# --- the edge -------------------------------------------------------------------------------------

View = Callable[..., HttpResponse]


def cleansing_admin_required(view: View) -> View:
    """Owners and admins only; other members get a page naming who may (403)."""

    @wraps(view)
    def wrapper(request: TenantHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.is_admin:
            admins = Membership.objects.select_related("user", "tenant").filter(role__in=ADMIN_ROLES, is_active=True)
            context = {"admins": [str(m) for m in admins], "nav_active": "cleansing"}
            return render(request, "leads/settings/cleansing_forbidden.html", context, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _service_errors(form: forms.Form, error: ValidationError) -> None:
    for name, field_messages in error.message_dict.items():
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


def _local_url(request: TenantHttpRequest, target: str | None, default: str) -> str:
    """`target` when it is a path on this site (the list with its filters and page), else `default`."""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _back_to(request: TenantHttpRequest, default: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(_local_url(request, request.POST.get("next"), default))


def _wants(request: TenantHttpRequest, fragment: str) -> bool:
    """Whether htmx asks for the list alone (a filter, a page link). A form's swap of the panel
    arrives here too, redirected after its POST: it gets the whole page to take the panel from."""
    htmx = request.htmx
    return bool(htmx) and htmx.target == fragment and not htmx.history_restore_request


def _page(queryset: QuerySet[Any], number: str | None) -> Page[Any]:
    return Paginator(queryset, PAGE_SIZE).get_page(number)


def _query_without_page(query: QueryDict) -> str:
    kept = QueryDict(mutable=True)
    for name, values in query.lists():
        if name != "page" and (present := [value for value in values if value]):
            kept.setlist(name, present)
    return kept.urlencode()


@dataclass(frozen=True)
class ImportOutcome:
    """An import's result as the page shows it: a report, or the refusal with its lines."""

    is_refused: bool
    message: str
    added_count: int = 0
    duplicate_count: int = 0
    refused: tuple[BlacklistFileError, ...] = ()


def _report_outcome(report: ListImportReport) -> ImportOutcome:
    return ImportOutcome(
        is_refused=False, message="", added_count=report.added_count, duplicate_count=report.duplicate_count,
        refused=tuple(report.refused),
    )


def _refused_outcome(error: ListImportRefused) -> ImportOutcome:
    return ImportOutcome(is_refused=True, message=error.message, refused=tuple(error.refused))


def _import_message(request: TenantHttpRequest, report: ListImportReport) -> None:
    text = _("导入完成：新增 {added} 条，{duplicates} 条已存在（跳过）").format(
        added=report.added_count, duplicates=report.duplicate_count
    )
    if report.refused:
        text += _("，{refused} 行有问题未导入（见下方）").format(refused=len(report.refused))
    messages.success(request, text)


def _render(request: TenantHttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    counts = context.get("blacklist_counts")
    if counts is None:
        counts = blacklist_counts_by_kind()
    tabs = {"nav_active": "cleansing", "blacklist_total": sum(counts.values()), "word_total": sensitive_word_count()}
    response = render(request, template, {**tabs, **context}, status=status)
    patch_vary_headers(response, ["HX-Request"])  # one URL serves the page and its list fragment
    return response


# --- blacklist ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRow:
    entry: BlacklistEntry
    reason: str
    shows_value: bool  # the stored form differs from what was typed (E.164, lower case …)
    added_by: PersonLabel | None


@dataclass(frozen=True)
class WordRow:
    entry: SensitiveWord
    added_by: PersonLabel | None


def _people(entries: list[Any]) -> dict[int, PersonLabel]:
    return owner_labels(user_ids={entry.created_by_id for entry in entries if entry.created_by_id})


def _blacklist_context(
    request: TenantHttpRequest, *, add_form: BlacklistEntryForm | None = None,
    import_form: BlacklistImportForm | None = None, import_outcome: ImportOutcome | None = None,
) -> dict[str, Any]:
    query = request.GET
    filters = BlacklistFilterForm(query)
    filters.is_valid()
    kind, search = filters.cleaned_data.get("kind") or "", filters.cleaned_data.get("q") or ""
    page = _page(blacklist_entry_list(kind=kind, search=search), query.get("page"))
    counts = blacklist_counts_by_kind()
    people = _people(list(page.object_list))
    return {
        "tab": "blacklist",
        "filters": filters,
        "page": page,
        "rows": [
            EntryRow(
                entry=entry, reason=blacklist_reason(entry.kind), shows_value=entry.value != entry.original,
                added_by=people.get(entry.created_by_id or 0),
            )
            for entry in page.object_list
        ],
        "has_filters": bool(kind or search),
        "base_query": _query_without_page(query),
        "blacklist_counts": counts,
        "kind_options": [(value, label, counts.get(value, 0)) for value, label in BlacklistKind.choices],
        "kind_hints": [(value, KIND_HINTS[BlacklistKind(value)]) for value, _label in BlacklistKind.choices],
        "add_form": add_form or BlacklistEntryForm(),
        "import_form": import_form or BlacklistImportForm(),
        "import_outcome": import_outcome,
        "limit": f"{MAX_BLACKLIST_ENTRIES:,}",
        "current_url": request.get_full_path(),
    }


def _blacklist_url(request: TenantHttpRequest) -> str:
    return reverse("leads:cleansing-blacklist", kwargs={"tenant_slug": request.tenant.slug})


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_blacklist_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """The blacklist: the list with its filters, the add form and the import form."""
    if request.method == "POST":
        form = BlacklistEntryForm(request.POST)
        if form.is_valid():
            try:
                entry = blacklist_entry_add(
                    tenant=request.tenant, kind=form.cleaned_data["kind"], value=form.cleaned_data["value"],
                    note=form.cleaned_data["note"], actor=request.user,
                )
            except ValidationError as error:
                _service_errors(form, error)
            except CleansingEntryExists as error:
                form.add_error("value", error.message)
            else:
                messages.success(request, _("已将“{value}”加入黑名单").format(value=entry.original))
                return HttpResponseRedirect(_blacklist_url(request))
        return _render(request, "leads/settings/cleansing_blacklist.html", _blacklist_context(request, add_form=form))
    context = _blacklist_context(request)
    template = "leads/settings/cleansing_blacklist.html" + ("#blacklist-table" if _wants(request, "blacklist-table") else "")
    return _render(request, template, context)


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_blacklist_import(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if request.method == "GET":  # the form lives on the blacklist page
        return HttpResponseRedirect(_blacklist_url(request))
    form = BlacklistImportForm(request.POST, request.FILES)
    outcome = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = blacklist_import(
                tenant=request.tenant, data=data["file"].read(), kind=data["kind"] or None, note=data["note"],
                skip_invalid=data["skip_invalid"], actor=request.user,
            )
        except ListImportRefused as error:
            outcome = _refused_outcome(error)
        else:
            _import_message(request, report)
            if not report.refused:
                return HttpResponseRedirect(_blacklist_url(request))
            outcome = _report_outcome(report)
    context = _blacklist_context(request, import_form=form, import_outcome=outcome)
    return _render(request, "leads/settings/cleansing_blacklist.html", context)


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_blacklist_delete(request: TenantHttpRequest, tenant_slug: str, entry_id: int) -> HttpResponse:
    """GET asks to confirm (the page without JavaScript); POST removes the entry."""
    entry = BlacklistEntry.objects.filter(id=entry_id).first()
    if entry is None:
        raise Http404("No such blacklist entry.")
    if request.method == "POST":
        blacklist_entry_delete(tenant=request.tenant, entry_id=entry.id, actor=request.user)
        messages.success(request, _("已从黑名单删除“{value}”").format(value=entry.original))
        return _back_to(request, _blacklist_url(request))
    context = {
        "title": _("从黑名单删除"),
        "question": _("删除后，含有“{value}”的新线索不再因这一条被隔离。已在隔离区的记录不受影响。").format(value=entry.original),
        "item_label": entry.original,
        "item_kind": entry.get_kind_display(),
        "cancel_url": _local_url(request, request.GET.get("next"), _blacklist_url(request)),
        "tab": "blacklist",
    }
    return _render(request, "leads/settings/cleansing_delete_confirm.html", context)


# --- sensitive words ------------------------------------------------------------------------------


def _words_url(request: TenantHttpRequest) -> str:
    return reverse("leads:cleansing-words", kwargs={"tenant_slug": request.tenant.slug})


def _words_context(
    request: TenantHttpRequest, *, add_form: SensitiveWordForm | None = None,
    import_form: SensitiveWordImportForm | None = None, import_outcome: ImportOutcome | None = None,
) -> dict[str, Any]:
    query = request.GET
    filters = WordFilterForm(query)
    filters.is_valid()
    category, search = filters.cleaned_data.get("category") or "", filters.cleaned_data.get("q") or ""
    page = _page(sensitive_word_list(category=category, search=search), query.get("page"))
    policy = cleansing_policy_get(tenant_id=request.tenant.id)
    lexicon = builtin_lexicon_summary()
    people = _people(list(page.object_list))
    return {
        "tab": "words",
        "filters": filters,
        "page": page,
        "rows": [WordRow(entry=word, added_by=people.get(word.created_by_id or 0)) for word in page.object_list],
        "has_filters": bool(category or search),
        "base_query": _query_without_page(query),
        "policy": policy,
        "lexicon": [row for row in lexicon if row.category != "allow"],
        "lexicon_allow": next((row for row in lexicon if row.category == "allow"), None),
        "lexicon_total": sum(row.word_count for row in lexicon if row.category != "allow"),
        "add_form": add_form or SensitiveWordForm(),
        "import_form": import_form or SensitiveWordImportForm(),
        "import_outcome": import_outcome,
        "limit": f"{MAX_SENSITIVE_WORDS:,}",
        "current_url": request.get_full_path(),
    }


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_words_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """The tenant's sensitive words and the built-in lexicon."""
    if request.method == "POST":
        form = SensitiveWordForm(request.POST)
        if form.is_valid():
            try:
                word = sensitive_word_add(
                    tenant=request.tenant, word=form.cleaned_data["word"], category=form.cleaned_data["category"],
                    actor=request.user,
                )
            except ValidationError as error:
                _service_errors(form, error)
            except CleansingEntryExists as error:
                form.add_error("word", error.message)
            else:
                messages.success(request, _("已添加敏感词“{word}”").format(word=word.original))
                return HttpResponseRedirect(_words_url(request))
        return _render(request, "leads/settings/cleansing_words.html", _words_context(request, add_form=form))
    context = _words_context(request)
    template = "leads/settings/cleansing_words.html" + ("#word-table" if _wants(request, "word-table") else "")
    return _render(request, template, context)


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_words_import(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    if request.method == "GET":
        return HttpResponseRedirect(_words_url(request))
    form = SensitiveWordImportForm(request.POST, request.FILES)
    outcome = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = sensitive_word_import(
                tenant=request.tenant, data=data["file"].read(), category=data["category"],
                skip_invalid=data["skip_invalid"], actor=request.user,
            )
        except ListImportRefused as error:
            outcome = _refused_outcome(error)
        else:
            _import_message(request, report)
            if not report.refused:
                return HttpResponseRedirect(_words_url(request))
            outcome = _report_outcome(report)
    context = _words_context(request, import_form=form, import_outcome=outcome)
    return _render(request, "leads/settings/cleansing_words.html", context)


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_word_delete(request: TenantHttpRequest, tenant_slug: str, word_id: int) -> HttpResponse:
    word = SensitiveWord.objects.filter(id=word_id).first()
    if word is None:
        raise Http404("No such sensitive word.")
    if request.method == "POST":
        sensitive_word_delete(tenant=request.tenant, word_id=word.id, actor=request.user)
        messages.success(request, _("已删除敏感词“{word}”").format(word=word.original))
        return _back_to(request, _words_url(request))
    context = {
        "title": _("删除敏感词"),
        "question": _("删除后，含有“{word}”的新线索不再因这个词被拦截。").format(word=word.original),
        "item_label": word.original,
        "item_kind": word.get_category_display(),
        "cancel_url": _local_url(request, request.GET.get("next"), _words_url(request)),
        "tab": "words",
    }
    return _render(request, "leads/settings/cleansing_delete_confirm.html", context)


@tenant_member_required
@require_http_methods(["POST"])
@cleansing_admin_required
def cleansing_builtin_switch(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """Turn the built-in lexicon on or off (from the words tab)."""
    form = BuiltinSwitchForm(request.POST)
    form.is_valid()
    is_on = bool(form.cleaned_data.get("use_builtin_words"))
    cleansing_policy_update(tenant=request.tenant, use_builtin_words=is_on, actor=request.user)
    messages.success(request, _("已启用内置敏感词库") if is_on else _("已关闭内置敏感词库：只拦截本团队添加的词"))
    return HttpResponseRedirect(_words_url(request))


# --- policy ---------------------------------------------------------------------------------------


@tenant_member_required
@require_http_methods(["GET", "POST"])
@cleansing_admin_required
def cleansing_policy_page(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """What a sensitive word does (quarantine, or let the lead in with a tag)."""
    policy = cleansing_policy_get(tenant_id=request.tenant.id)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            cleansing_policy_update(
                tenant=request.tenant, sensitive_action=form.cleaned_data["sensitive_action"],
                use_builtin_words=form.cleaned_data["use_builtin_words"], actor=request.user,
            )
            messages.success(request, _("处理方式已保存，从下一条提交起生效"))
            return HttpResponseRedirect(reverse("leads:cleansing-policy", kwargs={"tenant_slug": tenant_slug}))
    else:
        form = PolicyForm(initial={"sensitive_action": policy.sensitive_action, "use_builtin_words": policy.use_builtin_words})
    context = {"tab": "policy", "form": form, "policy": policy, "flag_tag": SENSITIVE_TAG}
    return _render(request, "leads/settings/cleansing_policy.html", context)
