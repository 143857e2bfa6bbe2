import django.contrib.postgres.indexes
from django.db import migrations, models

from leads.migrations._per_tenant import run_per_tenant

# leads.normalization.search_text no longer holds the e-mail: drop it from existing leads. The
# parts are joined by single spaces (their own runs of whitespace are folded), so removing the
# element equal to the lower-cased e-mail gives exactly what a new lead gets. The trigram index
# is rebuilt after the rewrite rather than updated row by row.
BACKFILL_SQL = """
UPDATE leads_lead SET search_text = array_to_string(array_remove(string_to_array(search_text, ' '), email), ' ')
WHERE tenant_id = %s AND email <> ''
"""


def backfill(apps, schema_editor):
    run_per_tenant(schema_editor, BACKFILL_SQL)


TRIGRAM_INDEX = django.contrib.postgres.indexes.GinIndex(
    fields=['tenant', 'search_text'], name='lead_search_trgm_idx', opclasses=['int8_ops', 'gin_trgm_ops']
)


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0005_leakproof_arraycontains'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='lead', name='lead_search_trgm_idx'),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(model_name='lead', index=TRIGRAM_INDEX),
        migrations.RemoveIndex(model_name='lead', name='lead_tenant_email_idx'),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('email', ''), _negated=True), fields=['tenant', 'email'], name='lead_tenant_email_idx', opclasses=['int8_ops', 'varchar_pattern_ops']),
        ),
    ]
