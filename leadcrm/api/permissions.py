from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from leadcrm.api.authentication import ApiKeyPrincipal
from leadcrm.tenancy.models import Role

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class HasScope(permissions.BasePermission):
    """API keys need the view's scope for the method; session users need a role that writes.

    Views declare `required_scopes = {"POST": "leads:write", "GET": "read"}`.
    """

    message = "This API key does not have the scope needed here."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if not hasattr(view, (request.method or "").lower()):
            return True  # the route has no such method: the view answers 405, whatever the scopes
        needed = getattr(view, "required_scopes", {}).get(request.method, "read" if request.method in SAFE else None)
        if isinstance(user, ApiKeyPrincipal):
            if needed is None:
                return False
            if needed not in user.api_key.scopes:
                self.message = f"This API key lacks the '{needed}' scope."
                return False
            return True
        membership = getattr(view, "membership", None)
        if membership is None:
            return True  # the tenant is resolved later in initial(); non-members get a 404 there
        if request.method not in SAFE and membership.role == Role.READ_ONLY:
            self.message = "Read-only members cannot change data."
            return False
        return True
