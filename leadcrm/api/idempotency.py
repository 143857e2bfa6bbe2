"""Idempotency-Key on POST (API.md): the same key and body (the same JSON, however its keys are
ordered or spaced) within 24 h replays the first response; another body is a 422; a second
request while the first runs is a 409.

The claim is committed in its own short transaction before the work starts, so a concurrent
request sees it; the response is stored in another when the work is done. If the work fails
the claim is deleted, so the client may retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadcrm.tenancy.models import IdempotencyRecord, Tenant
from leadcrm.tenancy.scoping import tenant_scope

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


class IdempotencyConflict(Exception):
    """409: the first request with this key is still running."""


class IdempotencyMismatch(Exception):
    """422: the key was used with a different request."""


def _uploaded_file_fingerprint(value: Any) -> Any:
    """A multipart body's file as its name and the digest of its content (json.dumps' `default`)."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)  # the handler reads it next
        return {"file": value.name, "sha256": digest.hexdigest()}
    raise TypeError(f"{type(value).__name__} is not part of a request body")


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    """What makes two requests "the same" for a key: the method, the path and the parsed body
    in one canonical form, so another key order or other whitespace is still the same body. A
    multipart body's files count by their content."""
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_uploaded_file_fingerprint
    )
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", canonical.encode()):
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(*, tenant: Tenant, owner_key: str, key: str, fingerprint: str) -> Replay | None:
    """Claim `key` for this request. Returns the stored response to replay, or None when the
    caller now owns the key and must do the work."""
    cutoff = timezone.now() - RETENTION
    with tenant_scope(tenant.id):
        record = IdempotencyRecord.objects.select_for_update().filter(owner_key=owner_key, key=key).first()
        if record is not None and record.created_at < cutoff:
            record.delete()  # expired: the key is free again
            record = None
        if record is None:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        tenant=tenant, owner_key=owner_key, key=key, request_fingerprint=fingerprint
                    )
                return None
            except IntegrityError:  # another request claimed it between our read and insert
                record = IdempotencyRecord.objects.filter(owner_key=owner_key, key=key).first()
                if record is None:
                    raise IdempotencyConflict from None
        if record.request_fingerprint != fingerprint:
            raise IdempotencyMismatch
        if not record.is_complete:
            raise IdempotencyConflict
        return Replay(status=record.response_status or 200, body=record.response_body)


def idempotency_complete(*, tenant: Tenant, owner_key: str, key: str, status: int, body: Any) -> None:
    with tenant_scope(tenant.id):
        IdempotencyRecord.objects.filter(owner_key=owner_key, key=key).update(
            is_complete=True, response_status=status, response_body=body
        )


def idempotency_release(*, tenant: Tenant, owner_key: str, key: str) -> None:
    with tenant_scope(tenant.id):
        IdempotencyRecord.objects.filter(owner_key=owner_key, key=key, is_complete=False).delete()


def idempotency_purge_expired() -> int:
    # Cross-tenant housekeeping: runs as the app role, so it goes tenant by tenant under RLS.
    cutoff = timezone.now() - RETENTION
    deleted = 0
    for tenant_id in Tenant.objects.values_list("id", flat=True):
        with tenant_scope(tenant_id):
            deleted += IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
    return deleted
