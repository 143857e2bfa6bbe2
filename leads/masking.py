"""Contact details shown to someone who may see that a contact exists but not reach it
(a manager reading the quarantine): enough to recognise, not enough to call. Pure, no ORM."""

from __future__ import annotations

from typing import Any

MASK = "****"
# Payload fields that reach a person; everything else in a submission is shown as sent.
MASKED_PAYLOAD_FIELDS = ("mobile", "phone", "email", "wechat")


def mask_digits(value: str) -> str:
    """13812345678 → 138****5678; +86 138-1234-5678 → +86 138****5678; short values keep
    their first and last character."""
    value = value.strip()
    digit_positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digit_positions) >= 8:
        first_hidden, last_hidden = digit_positions[-8], digit_positions[-5]
        return value[:first_hidden] + MASK + value[last_hidden + 1 :]
    return mask_text(value)


def mask_email(value: str) -> str:
    """zhang.wei@163.com → z****@163.com; without an @, as any text."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return mask_text(value)
    return f"{local[0]}{MASK}@{domain}"


def mask_text(value: str) -> str:
    value = value.strip()
    if len(value) <= 2:
        return MASK if value else ""
    return f"{value[0]}{MASK}{value[-1]}"


def payload_masked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its contact fields masked (`MASKED_PAYLOAD_FIELDS`)."""
    masked = dict(payload)
    for name in MASKED_PAYLOAD_FIELDS:
        value = masked.get(name)
        if not isinstance(value, str) or not value:
            continue
        if name == "email":
            masked[name] = mask_email(value)
        elif name in {"mobile", "phone"}:
            masked[name] = mask_digits(value)
        else:
            masked[name] = mask_text(value)
    return masked


# --- who sees a lead's contacts masked --------------------------------------------------------
# A pool with `mask_contacts` hides its leads' contact details from every member who does not
# own the lead, admins excepted (SPEC §5: "masked until claimed"). API keys are not members: an
# integrator's key is the tenant's own system (its CRM, its data warehouse), made by an admin and
# scoped by them, so it reads contacts whole, as an admin would.

CONTACT_FIELDS = ("mobile", "phone", "email", "wechat")


def contacts_masked(
    *, pool_id: int | None, owner_id: int | None, viewer_id: int | None, viewer_is_admin: bool, masking_pool_ids: frozenset[int]
) -> bool:
    """Whether this reader sees the lead's contacts masked. `viewer_id` None: an API key."""
    if viewer_id is None or viewer_is_admin or owner_id == viewer_id:
        return False
    return pool_id is not None and pool_id in masking_pool_ids


def contacts_for(*, mobile: str, phone: str, email: str, wechat: str, masked: bool) -> dict[str, str]:
    """The four contact fields as the reader may see them (blank stays blank)."""
    values = {"mobile": mobile, "phone": phone, "email": email, "wechat": wechat}
    return payload_masked(values) if masked else values
