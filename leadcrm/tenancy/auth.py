from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    """Log in with e-mail (case-insensitive) or username."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if not username or password is None:
            return None
        user_model = get_user_model()
        user = user_model._default_manager.filter(email__iexact=username.strip()).order_by("id").first()
        if user is None:
            user = user_model._default_manager.filter(username=username.strip()).first()
        if user is None:
            user_model().set_password(password)  # same time whether or not the user exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def login_username_normalised(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The name the log-in lockout (django-axes) counts attempts under: stripped and lower-cased,
    as EmailBackend matches it, so writing the e-mail in another case gives no fresh tries."""
    username = (credentials or {}).get("username")
    if username is None:
        username = getattr(request, "POST", {}).get("username")
    return str(username or "").strip().lower()
