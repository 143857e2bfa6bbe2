"""Log-in, log-out, the landing redirect and the tenant switcher."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from leadcrm.tenancy.models import Membership
from leadcrm.tenancy.selectors import membership_list_for_user
from leadcrm.tenancy.sessions import SESSION_TENANT_KEY


class EmailAuthenticationForm(AuthenticationForm):
    """Django's log-in form, asking for the e-mail address (EmailBackend) with messages that
    say what to do next."""

    username = forms.CharField(
        label=_("工作邮箱"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email", "placeholder": "name@company.com"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _(
            "邮箱或密码不正确。请检查邮箱拼写，并确认没有开启大写锁定后再试；连续输错 5 次将暂时锁定 15 分钟。"
        ),
        "inactive": _("此账号已停用。请联系贵公司的 LeadCRM 管理员恢复账号。"),
    }


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Where an invited person sets their password (the link in the invitation e-mail). The
    token is Django's reset token: it stops working once a password is set."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, _("密码已设置，请用邮箱和新密码登录。"))
        return super().form_valid(form)


def _active_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    active_id = request.session.get(SESSION_TENANT_KEY)
    return next((m for m in memberships if m.tenant_id == active_id), memberships[0] if memberships else None)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Land on the active tenant's lead list; a user without a tenant gets told what to do."""
    memberships = membership_list_for_user(user=cast(User, request.user))
    membership = _active_membership(request, memberships)
    if membership is None:
        return render(request, "tenancy/no_tenant.html", status=200)
    return redirect("leads:list", tenant_slug=membership.tenant.slug)


@require_POST
@login_required
def tenant_switch(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("tenant_slug", "")
    memberships = membership_list_for_user(user=cast(User, request.user))
    membership = next((m for m in memberships if m.tenant.slug == slug), None)
    if membership is None:  # unknown and foreign tenants look the same
        raise Http404("No such workspace.")
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    return redirect(reverse("leads:list", kwargs={"tenant_slug": membership.tenant.slug}))

