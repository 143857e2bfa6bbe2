"""Let the planner use the trigram and score indexes under row-level security.

With RLS on, PostgreSQL evaluates a query's own conditions only after the policy unless their
functions are LEAKPROOF, and then cannot use them as index conditions: `q` (LIKE on the
trigram index) and score ranges/sorts (numeric comparisons) turn into scans of the whole
tenant. These functions raise no error that depends on row data (LIKE only on a malformed
pattern, which is the caller's own input), so marking them LEAKPROOF reveals nothing across
tenants. Only a superuser may do this; otherwise the migration says so and goes on (the
docker-compose database does it in docker/initdb.sql).
"""

from typing import Any

from django.db import migrations

from leads.migrations import _leakproof as leakproof

LEAKPROOF_FUNCTIONS = (
    "textlike(text, text)",
    "textnlike(text, text)",
    "numeric_eq(numeric, numeric)",
    "numeric_ne(numeric, numeric)",
    "numeric_lt(numeric, numeric)",
    "numeric_le(numeric, numeric)",
    "numeric_gt(numeric, numeric)",
    "numeric_ge(numeric, numeric)",
    "numeric_cmp(numeric, numeric)",
)


def mark_leakproof(apps: Any, schema_editor: Any) -> None:
    leakproof.mark_leakproof(
        schema_editor, LEAKPROOF_FUNCTIONS,
        unless_note="LIKE and numeric comparisons stay non-LEAKPROOF; search and score sorting will not use"
        " their indexes under row-level security. See leads/migrations/0002.",
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(mark_leakproof, migrations.RunPython.noop, elidable=False)]
