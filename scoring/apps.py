from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        from leadcrm.tenancy.defaults import tenant_defaults_register
        from leads.intake.config import intake_config_probe_register
        from leads.intake.hooks import intake_hook_register
        from leads.list_extensions import lead_list_notes_register
        from leads.signals import lead_fields_changed
        from scoring.events import PENDING_PROBE_SQL, intake_pending_events_enqueue
        from scoring.group_actions import group_actions_defaults_install
        from scoring.list_reasons import lead_list_reasons
        from scoring.receivers import lead_became_hot_record, lead_became_mature_record, lead_fields_changed_rescore
        from scoring.services import PUBLISHED_PROBE_SQL, intake_leads_score, rule_set_defaults_install
        from scoring.signals import lead_became_hot, lead_became_mature

        tenant_defaults_register(name="scoring.rule_set", installer=rule_set_defaults_install)
        tenant_defaults_register(name="scoring.group_actions", installer=group_actions_defaults_install)
        # Before intake's insert: a lead is scored in the request that brings it, and its score
        # is written by intake's own statement; the published version comes with intake's probes.
        intake_config_probe_register(name="scoring.rules", sql=PUBLISHED_PROBE_SQL)
        intake_hook_register(name="scoring.score_at_intake", when="persisting", hook=intake_leads_score)
        # After commit, ids only: events that waited for these leads attach in a task (only
        # when the probe saw events waiting).
        intake_config_probe_register(name="scoring.pending_events", sql=PENDING_PROBE_SQL)
        intake_hook_register(name="scoring.pending_events", when="committed", hook=intake_pending_events_enqueue)
        lead_became_hot.connect(lead_became_hot_record, dispatch_uid="scoring.lead_became_hot_record")
        lead_became_mature.connect(lead_became_mature_record, dispatch_uid="scoring.lead_became_mature_record")
        # A lead's fields changed by hand: rescore when the rules read a changed field.
        lead_fields_changed.connect(lead_fields_changed_rescore, dispatch_uid="scoring.lead_fields_changed_rescore")
        # "Why hot" next to the tier badge of the workbench list's hot and warm rows.
        lead_list_notes_register(name="scoring.why_hot", provider=lead_list_reasons)
