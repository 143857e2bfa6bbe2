"""The people of a tenant (API.md "Members"): inviting, changing role and team, removing.

Members are tenancy: this module knows no app. Removing a member here only closes their
membership (they can no longer sign in to the tenant: `membership_list_for_user` reads active
memberships only); what they held, their leads and their routing profile, is assignment's to
hand back (`assignment.people.member_remove` calls this in the same transaction).

Invitations use Django's password-reset token machinery: the link carries the user's id and a
token that stops working once the password is set (the token hashes the password), so one
link sets one password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from leadcrm.tenancy.models import Membership, Role, Tenant
from leadcrm.tenancy.services import audit_log_record

# Roles a member can be given over the API and the pages; the owner is made with the tenant.
ASSIGNABLE_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN, Role.READ_ONLY)
MEMBER_ORDERINGS = {
    "name": ("display_name", "email_address", "id"),
    "-name": ("-display_name", "-email_address", "-id"),
    "email": ("email_address", "id"),
    "-email": ("-email_address", "-id"),
    "role": ("role", "display_name", "id"),
    "-role": ("-role", "display_name", "id"),
    "team": ("team", "display_name", "id"),
    "-team": ("-team", "display_name", "id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


class MemberExists(Exception):
    """The e-mail address already belongs to an active member of the tenant (the API's 409)."""

    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        super().__init__(f"{membership.user.email} is already a member of this workspace.")


@dataclass(frozen=True)
class InvitedMember:
    membership: Membership
    invitation_sent: bool  # an e-mail with a set-password link went out (no password was given)


def _role_checked(role: str) -> str:
    if role not in ASSIGNABLE_ROLES:
        raise ValidationError({"role": [f"Unknown role '{role}'. Use one of: {', '.join(ASSIGNABLE_ROLES)}."]})
    return role


def password_set_path(*, user: User) -> str:
    """The path of the page where `user` sets their password (valid until they do)."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password-set", kwargs={"uidb64": uidb64, "token": default_token_generator.make_token(user)})


@transaction.atomic
def member_invite(
    *, tenant: Tenant, email: str, name: str = "", role: str, team: str = "", password: str | None = None,
    invited_by: User | None = None, site_url: str = "",
) -> InvitedMember:
    """Add a person to the tenant. A new user without `password` gets an e-mail with a link to
    set one; a user who already has an account (another tenant's) keeps it and is told they
    were added. An e-mail already in the tenant raises MemberExists; a removed member comes
    back with the new role."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [f"'{email}' is not a valid e-mail address."]}) from None
    _role_checked(role)
    name, team = name.strip(), team.strip()
    user = User.objects.filter(email__iexact=email).first()
    is_new_user = user is None
    if user is None:
        user = User(username=email[:150], email=email, first_name=name[:150])
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    membership = Membership.objects.select_related("user", "tenant").filter(user=user).first()
    if membership is not None and membership.is_active:
        raise MemberExists(membership)
    if membership is None:
        membership = Membership.objects.create(
            tenant=tenant, user=user, role=role, display_name=name or user.get_full_name(), team=team,
        )
        action = "membership.create"
    else:
        membership.role, membership.team, membership.is_active = role, team, True
        membership.display_name = name or membership.display_name
        membership.save(update_fields=["role", "team", "is_active", "display_name", "updated_at"])
        action = "membership.reactivate"
    audit_log_record(
        tenant=tenant, actor=invited_by, action=action, object_type="membership", object_id=membership.id,
        changes={"user": email, "role": role, "team": team},
    )
    needs_password = is_new_user and not password
    # Existing accounts keep their password; they are told where to sign in.
    link = f"{site_url}{password_set_path(user=user)}" if needs_password else f"{site_url}{reverse('login')}"
    message = _invitation_message(tenant=tenant, email=email, link=link, needs_password=needs_password)
    transaction.on_commit(lambda: _send(message))
    return InvitedMember(membership=membership, invitation_sent=needs_password)


def _invitation_message(*, tenant: Tenant, email: str, link: str, needs_password: bool) -> EmailMessage:
    subject = _("你已被邀请加入 {tenant} 的 LeadCRM").format(tenant=tenant.name)
    if needs_password:
        body = _("请打开下面的链接设置密码，之后用这个邮箱登录：\n{link}\n\n链接在设置密码后失效。").format(link=link)
    else:
        body = _("用你现有的 LeadCRM 账号登录即可进入 {tenant}：\n{link}").format(tenant=tenant.name, link=link)
    return EmailMessage(subject=subject, body=body, to=[email])


def _send(message: EmailMessage) -> None:
    # Raised errors here would surface after the member was saved; the admin can re-invite.
    get_connection(fail_silently=True).send_messages([message])


def member_get(*, user_id: int, include_inactive: bool = True) -> Membership:
    """The tenant's membership of `user_id` (Membership.DoesNotExist for another tenant's)."""
    query = Membership.objects.select_related("user", "tenant").filter(user_id=user_id)
    if not include_inactive:
        query = query.filter(is_active=True)
    return query.get()


def member_update(*, tenant: Tenant, user_id: int, actor: User | None, **changes: Any) -> Membership:
    """Change a member's role or team (audited). The owner's role is not changed here."""
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(user_id=user_id)
    diff: dict[str, dict[str, Any]] = {}
    if "role" in changes and changes["role"] != membership.role:
        _role_checked(changes["role"])
        if membership.role == Role.OWNER:
            raise ValidationError({"role": ["The workspace's owner keeps the owner role."]})
        diff["role"] = {"from": membership.role, "to": changes["role"]}
        membership.role = changes["role"]
    if "team" in changes and changes["team"].strip() != membership.team:
        diff["team"] = {"from": membership.team, "to": changes["team"].strip()}
        membership.team = changes["team"].strip()
    if diff:
        membership.save(update_fields=[*diff, "updated_at"])
        audit_log_record(
            tenant=tenant, actor=actor, action="membership.update", object_type="membership",
            object_id=membership.id, changes=diff,
        )
    return membership


def membership_deactivate(*, tenant: Tenant, user_id: int, actor: User | None) -> tuple[Membership, bool]:
    """Close a membership: from the next request on the person cannot sign in to this tenant.
    Returns the membership and whether it was active until now. Call it through
    `assignment.people.member_remove`, which also hands back what they held."""
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(user_id=user_id)
    if membership.role == Role.OWNER:
        raise ValidationError({"active": ["The workspace's owner cannot be removed."]})
    if actor is not None and actor.id == user_id:
        raise ValidationError({"active": ["You cannot remove yourself; ask another admin."]})
    was_active = membership.is_active
    if was_active:
        membership.is_active = False
        membership.save(update_fields=["is_active", "updated_at"])
        audit_log_record(
            tenant=tenant, actor=actor, action="membership.deactivate", object_type="membership",
            object_id=membership.id, changes={"user": membership.user.email},
        )
    return membership, was_active


def membership_reactivate(*, tenant: Tenant, user_id: int, actor: User | None) -> Membership:
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(user_id=user_id)
    if not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active", "updated_at"])
        audit_log_record(
            tenant=tenant, actor=actor, action="membership.reactivate", object_type="membership",
            object_id=membership.id, changes={"user": membership.user.email},
        )
    return membership


def member_search(
    *, role: str = "", team: str = "", active: bool | None = True, q: str = "", ordering: str = "name"
) -> QuerySet[Membership]:
    """The tenant's members for the people page and GET /members (filters and sort)."""
    # The address as a column of the row: keyset pagination reads its position from the row.
    query = Membership.objects.select_related("user", "tenant").annotate(email_address=F("user__email"))
    if role:
        query = query.filter(role=role)
    if team:
        query = query.filter(team=team)
    if active is not None:
        query = query.filter(is_active=active)
    if q := q.strip():
        query = query.filter(
            Q(display_name__icontains=q) | Q(user__email__icontains=q) | Q(user__first_name__icontains=q)
            | Q(team__icontains=q)
        )
    return query.order_by(*MEMBER_ORDERINGS.get(ordering, MEMBER_ORDERINGS["name"]))


def member_teams() -> list[str]:
    """The tenant's team names, for filters and suggestions."""
    return list(
        Membership.objects.exclude(team="").order_by("team").values_list("team", flat=True).distinct()
    )
