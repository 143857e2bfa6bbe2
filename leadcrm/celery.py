"""The Celery app. DjangoTask gives every task `.delay_on_commit()`."""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings.local")

app = Celery("leadcrm", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Log through Django's LOGGING (ISO-8601 UTC times, leadcrm/logs.py) rather than Celery's
    own format and local clock: a receiver of this signal replaces Celery's logging set-up."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
