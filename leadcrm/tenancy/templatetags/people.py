"""How pages name people: `{{ membership_or_user|person_name }}`, `{{ email|email_breakable }}`."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.html import format_html
from django.utils.safestring import SafeString

from leadcrm.tenancy.models import Membership
from leadcrm.tenancy.models import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user: AbstractBaseUser | AnonymousUser | None, membership: Membership | None = None) -> str:
    """`{{ user|person_name:membership }}`: the member's name in the tenant, else the user's."""
    if isinstance(membership, Membership):
        return membership.name
    if user is None or isinstance(user, AnonymousUser):
        return ""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return _person_name(display_name="", full_name=full_name, email=getattr(user, "email", ""))


@register.filter
def email_breakable(email: str) -> SafeString | str:
    """An address that wraps before its @ when it must, never inside a word or at a hyphen of
    the domain: each part is kept whole unless it is longer than a line (`.email-part`)."""
    local, at, domain = str(email).partition("@")
    if not at:
        return email
    return format_html('<span class="email-part">{}</span><wbr><span class="email-part">@{}</span>', local, domain)
