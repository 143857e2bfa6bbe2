"""Refusals in the reader's words: a transition the lead's status does not allow, named by
the statuses' labels (never a raw code such as `returned`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from leads.models import LeadStatus
from leads.services import InvalidTransition

REQUESTED_WORDS = {"assigned": "分配", "claimed": "领取"}


def status_words(status: str) -> str:
    return str(LeadStatus(status).label) if status in LeadStatus.values else status


def transition_words(error: InvalidTransition) -> str:
    requested = error.requested
    if requested in REQUESTED_WORDS:
        return _("线索当前是「%(current)s」，不能%(action)s；请先重新打开它。") % {
            "current": status_words(error.current), "action": _(REQUESTED_WORDS[requested]),
        }
    return _("线索当前是「%(current)s」，不能改为「%(requested)s」。") % {
        "current": status_words(error.current), "requested": status_words(requested),
    }


def refusal_words(message: str) -> str:
    """A service's message as shown on a page (the services word them through gettext)."""
    return str(message)
