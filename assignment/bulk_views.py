"""The lead list's bulk actions: the bar above the list (rendered into leads' page through
`leads.list_extensions`, which leads may import and assignment fills) and the POST it sends.

Without JavaScript the bar is a plain form: a refused POST shows the form again on a page of
its own with the selection kept, return and invalid show a confirm page first, and a done
action goes back to the list (POST → redirect → GET) with "n done, m skipped: why". htmx
posts the same form and swaps the answer into the bar's panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST

from assignment.bulk import (
    ALREADY_OWNED,
    ASSIGN,
    INVALID,
    MAX_SELECTION,
    NOT_OWNED,
    NOT_YOURS,
    RETURN,
    WRONG_STATUS,
    BulkOutcome,
    bulk_actions_allowed,
    bulk_preview,
    leads_bulk_act,
)
from assignment.page_selectors import RepChoice, rep_choices
from assignment.refusals import refusal_words, transition_words
from leadcrm.tenancy.decorators import TenantHttpRequest, tenant_member_required
from leads.services import InvalidTransition

ACTION_LABELS = {
    ASSIGN: gettext_lazy("分配给销售"), RETURN: pgettext_lazy("bulk action", "退回线索池"),
    INVALID: pgettext_lazy("bulk action", "标记无效"),
}
SKIP_WORDS = {
    NOT_YOURS: gettext_lazy("%(n)s 条不是你负责的"),
    WRONG_STATUS: gettext_lazy("%(n)s 条当前状态不允许"),
    ALREADY_OWNED: gettext_lazy("%(n)s 条已经由这位销售负责"),
    NOT_OWNED: gettext_lazy("%(n)s 条没有负责人，已在线索池中"),
}


def _reps_for(actions: tuple[str, ...]) -> list[RepChoice]:
    return rep_choices() if ASSIGN in actions else []


def lead_list_bulk_bar(*, request: HttpRequest, lead_ids: list[int], back_query: str) -> str:
    """The bar for the list page (the `leads.list_extensions` provider): the actions the
    member's role offers; "" for a role with none (the list then shows no checkboxes)."""
    membership = getattr(request, "membership", None)
    if membership is None or not lead_ids:
        return ""
    actions = bulk_actions_allowed(membership=membership)
    if not actions:
        return ""
    context = {
        "actions": [(action, ACTION_LABELS[action]) for action in actions],
        "reps": _reps_for(actions), "page_ids": lead_ids, "back_query": back_query,
    }
    return render_to_string("assignment/_bulk_bar.html", context, request=request)


def _skip_reasons(outcome: BulkOutcome) -> str:
    return pgettext("list separator", "，").join(str(SKIP_WORDS[key]) % {"n": len(ids)} for key, ids in outcome.skipped.items())


def outcome_words(outcome: BulkOutcome) -> str:
    """"3 done, 2 skipped: 1 not yours, 1 wrong status" in the reader's language."""
    done = _("%(n)s 条已完成") % {"n": len(outcome.done)}
    if not outcome.skipped:
        return done
    return _("%(done)s，%(skipped)s 条跳过：%(why)s") % {
        "done": done, "skipped": outcome.skipped_count, "why": _skip_reasons(outcome),
    }


def preview_words(outcome: BulkOutcome) -> str:
    """The confirm step's word on the leads the action will pass over."""
    return _("%(skipped)s 条将跳过：%(why)s") % {"skipped": outcome.skipped_count, "why": _skip_reasons(outcome)}


def _ids(values: list[str]) -> list[int]:
    return list(dict.fromkeys(int(v) for v in values if v.isdigit() and len(v) <= 18))[:MAX_SELECTION]


def _back_query(request: TenantHttpRequest) -> str:
    """The list's query string to go back to; anything that could be another address is dropped."""
    query = request.POST.get("back_query", "")[:2000]
    return query if "/" not in query and ":" not in query and "\\" not in query else ""


def _back_url(request: TenantHttpRequest, tenant_slug: str) -> str:
    url = reverse("leads:list", kwargs={"tenant_slug": tenant_slug})
    query = _back_query(request)
    return f"{url}?{query}" if query else url


def _done(request: TenantHttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
@tenant_member_required
def lead_bulk_action(request: TenantHttpRequest, tenant_slug: str) -> HttpResponse:
    """Run a bulk action on the selected leads. The selection is the ticked rows (`lead`), or
    the whole page (`all_on_page` with the page's ids in `page_lead`)."""
    post = request.POST
    back = _back_url(request, tenant_slug)
    actions = bulk_actions_allowed(membership=request.membership)
    action = post.get("action", "")
    lead_ids = _ids(post.getlist("page_lead") if post.get("all_on_page") == "1" else post.getlist("lead"))
    reason = post.get("reason", "").strip()[:500]
    reps = _reps_for(actions)
    owner_raw = post.get("owner", "")
    owner_id = int(owner_raw) if owner_raw.isdigit() and len(owner_raw) <= 18 else None
    errors: dict[str, list[str]] = {}
    if action not in actions:
        errors["action"] = [_("请选择一个你可以执行的批量操作。")]
    if not lead_ids:
        errors["lead"] = [_("请先勾选要处理的线索。")]
    if action == ASSIGN and owner_id not in {rep.user_id for rep in reps}:
        errors["owner"] = [_("请选择一位销售")]
    if action in (RETURN, INVALID) and not reason:
        errors["reason"] = [_("请说明原因")]
    confirm = not errors and action in (RETURN, INVALID) and post.get("confirmed") != "1"
    if not errors and not confirm:
        try:
            outcome = leads_bulk_act(tenant=request.tenant, membership=request.membership, actor=request.user,
                                     lead_ids=lead_ids, action=action, owner_id=owner_id, reason=reason)
        except InvalidTransition as error:  # a lead changed between the read and the lock: nothing was done
            errors["form"] = [transition_words(error)]
        except ValueError as error:
            errors["form"] = [refusal_words(str(error))]
        else:
            words = outcome_words(outcome)
            (messages.success if outcome.done else messages.warning)(request, words)
            return _done(request, back)
    is_fragment = bool(request.headers.get("HX-Request"))
    preview = bulk_preview(lead_ids=lead_ids, action=action, membership=request.membership, owner_id=owner_id) if confirm else None
    context: dict[str, Any] = {
        "errors": errors, "confirm": confirm, "action": action,
        "action_label": ACTION_LABELS.get(action, ""), "actions": [(a, ACTION_LABELS[a]) for a in actions],
        "reps": reps, "lead_ids": lead_ids, "owner_id": owner_id, "reason": reason,
        "back_query": _back_query(request), "back_url": back,
        "preview": preview, "preview_words": preview_words(preview) if preview else "",
        "is_fragment": is_fragment, "base_template": "scoring/_fragment.html" if is_fragment else "base.html",
        "nav_active": "leads",
    }
    # htmx swaps only 2xx answers: a refusal inside the bar's panel is a 200 there.
    return render(request, "assignment/bulk.html", context, status=400 if errors and not is_fragment else 200)
