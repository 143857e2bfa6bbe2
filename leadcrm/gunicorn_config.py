"""Gunicorn settings for every way the product is served (`make demo`, the image, compose):

    gunicorn -c python:leadcrm.gunicorn_config leadcrm.wsgi:application

Gunicorn's own lines (start-up, workers, the access log) get the same format and UTC
clock as Django's and Celery's (leadcrm/logs.py). Command-line flags still override these.
"""

from __future__ import annotations

import os

from leadcrm.logs import logging_config

# No level on gunicorn.error: `--log-level` keeps deciding it. No propagation: Django's root
# handler, installed when the app loads, would print every line twice.
logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL", "INFO"),
    loggers={
        "gunicorn.error": {"handlers": ["console"], "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
)
# The line's own time stamp is the time: gunicorn's %(t)s would add a second one, in local time.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
