"""The web form's token: CSRF protection and time trap in one, without cookies.

A form embedded in another site's page is a third-party frame, whose cookies browsers drop, so
Django's cookie-based CSRF check cannot work there. Instead each rendering carries a token
signed with the secret key (django.core.signing) naming the form and the moment it was
rendered: a post without one, with one for another form, or with a forged one is refused; so is
one older than `TOKEN_MAX_AGE` (a page left open overnight) and one younger than
`MIN_FILL_SECONDS` (no person fills a form that fast; scripts do). Pure: no ORM.
"""

from __future__ import annotations

import time
from typing import Literal

from django.core import signing

TOKEN_SALT = "capture.webform.token"
MIN_FILL_SECONDS = 2.0
TOKEN_MAX_AGE = 6 * 3600  # seconds
TokenProblem = Literal["missing", "invalid", "expired", "too_fast"]


def form_token_make(*, key: str, now: float | None = None) -> str:
    return signing.dumps({"k": key, "t": round(time.time() if now is None else now, 3)}, salt=TOKEN_SALT, compress=False)


def form_token_problem(*, token: str, key: str, now: float | None = None) -> TokenProblem | None:
    """Why `token` may not submit the form `key` now, or None when it may."""
    if not token:
        return "missing"
    now = time.time() if now is None else now
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    if not isinstance(data, dict) or data.get("k") != key or not isinstance(data.get("t"), (int, float)):
        return "invalid"
    age = now - data["t"]
    if age > TOKEN_MAX_AGE:
        return "expired"
    if age < MIN_FILL_SECONDS:
        return "too_fast"
    return None
