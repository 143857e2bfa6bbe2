import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcrm.tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with the default configuration, its owner and optionally an API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--api-key", action="store_true", help="Also create an API key with all scopes.")
        parser.add_argument("--timezone", default="Asia/Shanghai")
        parser.add_argument("--locale", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = tenant_create(
                slug=options["slug"], name=options["name"], admin_email=options["admin_email"],
                admin_password=options["admin_password"], with_api_key=options["api_key"],
                timezone_name=options["timezone"], locale=options["locale"],
            )
        except ValidationError as error:
            messages = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items())
            raise CommandError(messages) from error
        result = {"tenant": created.tenant.slug, "admin_email": created.owner.user.email}
        if created.api_key is not None:
            result["api_key"] = created.api_key.raw_key
        self.stdout.write(json.dumps(result, ensure_ascii=False))
