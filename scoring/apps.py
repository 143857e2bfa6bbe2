from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        from leadcrm.tenancy.defaults import tenant_defaults_register
        from leads.intake.config import intake_config_probe_register
        from leads.intake.hooks import intake_hook_register
        from scoring.events import intake_pending_events_enqueue
        from scoring.services import PUBLISHED_PROBE_SQL, intake_leads_score, rule_set_defaults_install

        tenant_defaults_register(name="scoring.rule_set", installer=rule_set_defaults_install)
        # Before intake's insert: a lead is scored in the request that brings it, and its score
        # is written by intake's own statement; the published version comes with intake's probes.
        intake_config_probe_register(name="scoring.rules", sql=PUBLISHED_PROBE_SQL)
        intake_hook_register(name="scoring.score_at_intake", when="persisting", hook=intake_leads_score)
        # After commit, ids only: events that waited for these leads attach in a task.
        intake_hook_register(name="scoring.pending_events", when="committed", hook=intake_pending_events_enqueue)
