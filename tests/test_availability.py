"""Which errors are outages (503, retry later) and which are bugs (500)."""

from __future__ import annotations

import psycopg
import pytest
import redis.exceptions
from django.db import InterfaceError, OperationalError
from psycopg import errors

from leadcrm.availability import unavailable_service


def _wrapped(cause: Exception) -> OperationalError:
    """As Django raises it: its own OperationalError, caused by psycopg's."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as error:
        return error


@pytest.mark.parametrize(
    ("error", "service"),
    [
        (redis.exceptions.ConnectionError("Connection refused"), "cache"),
        (redis.exceptions.TimeoutError("Timeout reading from socket"), "cache"),
        (psycopg.OperationalError("connection failed: Connection refused"), "database"),
        (_wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), "database"),
        (_wrapped(errors.AdminShutdown()), "database"),
        (_wrapped(errors.CannotConnectNow()), "database"),
        (_wrapped(errors.TooManyConnections()), "database"),
        (InterfaceError("connection already closed"), "database"),
        (_wrapped(errors.DeadlockDetected()), None),  # the query's trouble, not an outage
        (_wrapped(errors.QueryCanceled()), None),
        (_wrapped(errors.LockNotAvailable()), None),
        (ValueError("bug"), None),
    ],
)
def test_outages_are_told_from_bugs(error, service):
    assert unavailable_service(error) == service
