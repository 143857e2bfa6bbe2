import django.contrib.postgres.fields
import django.contrib.postgres.indexes
from django.db import migrations, models

from leads.migrations._per_tenant import run_per_tenant

# The pairs of adjacent Chinese characters of name and company, as leads.normalization.search_bigrams
# computes them for new leads (CJK Unified Ideographs and Extension A).
BACKFILL_SQL = """
UPDATE leads_lead AS l SET search_bigrams = b.pairs
FROM (
    SELECT s.id, ARRAY(
        SELECT DISTINCT substr(s.t, i, 2) FROM generate_series(1, length(s.t) - 1) AS i
        WHERE substr(s.t, i, 2) ~ '^[㐀-䶿一-鿿]{2}$' ORDER BY 1
    ) AS pairs
    FROM (SELECT id, name || ' ' || company AS t FROM leads_lead WHERE tenant_id = %s) AS s
) AS b
WHERE l.id = b.id AND cardinality(b.pairs) > 0
"""


def backfill(apps, schema_editor):
    run_per_tenant(schema_editor, BACKFILL_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0003_company_name_index'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='lead',
            name='search_bigrams',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=2), blank=True, default=list, size=None),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='lead',
            index=django.contrib.postgres.indexes.GinIndex(fields=['tenant', 'search_bigrams'], name='lead_search_bigram_idx', opclasses=['int8_ops', 'array_ops']),
        ),
    ]
