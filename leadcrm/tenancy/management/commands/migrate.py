"""`manage.py migrate`, run as the database owner by itself.

Application connections switch to DB_APP_ROLE on connect (settings); migrations must run as
the owner of the tables, and on a fresh server the app role does not exist yet (it is created
by the first migrate, see rls.py). So this command drops the switch for its own connection:
`manage.py migrate` with the owner's DATABASE_URL is all an operator types. (`DB_RUN_AS_OWNER=1`
still makes every command run as the owner, for unusual set-ups.)
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate
from django.db import connections


class Command(migrate.Command):
    help = migrate.Command.help + " Runs as the DATABASE_URL's own user (the owner), never as the app role."

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.settings_dict["OPTIONS"].pop("assume_role", None):
            connection.close()  # the next query reconnects as the owner, with no SET ROLE
        super().handle(*args, **options)
