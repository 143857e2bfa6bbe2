"""One log line format for every process (Django, gunicorn, Celery): ISO-8601 times in UTC.

The web server, the worker and the database each used their own clock format and the host's
time zone; lines from one request could not be lined up. Every line now starts with e.g.
`2026-11-28T04:34:21.123Z`, whatever the host's time zone is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class UtcIsoFormatter(logging.Formatter):
    """`%(asctime)s` as ISO 8601 in UTC with milliseconds: 2026-11-28T04:34:21.123Z."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        stamp = time.strftime(datefmt or "%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def logging_config(*, level: str, loggers: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: everything to stderr through `UtcIsoFormatter`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"utc": {"class": "leadcrm.logs.UtcIsoFormatter", "format": LOG_FORMAT}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "utc"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": loggers or {},
    }
