"""Intake: the one pipeline every channel uses (REST single and bulk, import, web form, manual
entry). A batch runs through named stages, normalise → validate → cleanse → dedup → persist,
then the hooks other apps registered (scoring, routing) run on what it created.

It works on a batch, so bulk intake costs a handful of set-based queries rather than a few per
lead; a single lead is a batch of one. Other apps plug in through `intake_hook_register`;
intake never imports them.
"""

from leads.intake.batch import IntakeOutcome
from leads.intake.hooks import IntakeCommitted, IntakePersisted, intake_hook_register
from leads.intake.pipeline import STAGES, lead_intake, lead_intake_many

__all__ = [
    "STAGES",
    "IntakeCommitted",
    "IntakeOutcome",
    "IntakePersisted",
    "intake_hook_register",
    "lead_intake",
    "lead_intake_many",
]
