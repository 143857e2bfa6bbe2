"""Let the two-character search use its bigram index under row-level security.

As in 0002: a condition whose function is not LEAKPROOF is evaluated only after the RLS
policy and cannot be an index condition, so `search_bigrams @> '{王伟}'` would scan the whole
tenant. Array containment raises no error that depends on row data. Superuser only; otherwise
the migration says so and goes on (docker/initdb.sql does it for the compose database).
"""

from typing import Any

from django.db import migrations

from leads.migrations import _leakproof as leakproof


def mark_leakproof(apps: Any, schema_editor: Any) -> None:
    leakproof.mark_leakproof(
        schema_editor, ("arraycontains(anyarray, anyarray)",),
        unless_note="array containment stays non-LEAKPROOF; two-character searches will not use their index"
        " under row-level security. See leads/migrations/0005.",
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_search_bigrams")]

    operations = [migrations.RunPython(mark_leakproof, migrations.RunPython.noop, elidable=False)]
