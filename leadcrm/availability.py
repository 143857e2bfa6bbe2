"""Which backing service an error says cannot be reached right now: the database or the cache.

Such a request is answered 503 with Retry-After (problem+json on the API, a page otherwise)
rather than as a bug (500): nothing is wrong with the request, and a retry will work.
Database errors that a query caused (a deadlock, a timeout, a limit) are not outages.
"""

from __future__ import annotations

import logging

import psycopg
import redis.exceptions
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
UNAVAILABLE_DETAIL = {
    "database": "The database is unavailable; retry later.",
    "cache": "The cache is unavailable; retry later.",
}
# SQLSTATEs of a server that cannot serve anyone now: class 08 is "connection exception"
# (checked by prefix); shutting down, starting up, out of connections or resources.
_SERVER_DOWN_STATES = frozenset({"57P01", "57P02", "57P03", "53000", "53100", "53200", "53300"})


def unavailable_service(error: BaseException) -> str | None:
    """'database' or 'cache' when `error` means that service cannot be reached, else None."""
    if isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "cache"
    if isinstance(error, (DjangoInterfaceError, psycopg.InterfaceError)):
        return "database"  # the connection is gone
    if isinstance(error, (DjangoOperationalError, psycopg.OperationalError)):
        cause = error.__cause__ if isinstance(error.__cause__, psycopg.Error) else error
        state = getattr(cause, "sqlstate", None)
        if state is None or state.startswith("08") or state in _SERVER_DOWN_STATES:  # None: no server answered
            return "database"
    return None


def log_unavailable(service: str, error: BaseException) -> None:
    logger.error("%s unavailable: %s: %s", service, type(error).__name__, error)
