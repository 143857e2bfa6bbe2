"""Shared by the migrations that mark built-in functions LEAKPROOF (0002, 0005)."""

from typing import Any


def mark_leakproof(schema_editor: Any, signatures: tuple[str, ...], *, unless_note: str) -> None:
    """ALTER the functions LEAKPROOF when migrating as a superuser; otherwise print the note."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not row or not row[0]:
            print(f"\n  Note: not a superuser, so {unless_note}")  # noqa: T201 - migration output for the operator
            return
        for signature in signatures:
            cursor.execute(f"ALTER FUNCTION pg_catalog.{signature} LEAKPROOF")
