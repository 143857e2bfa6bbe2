from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.seed import DEFAULT_LEADS, DEFAULT_SEED, DemoResult, demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo tenant 'demo' with reps, pools and realistic leads, then print the log-ins. "
        "Does nothing but print the log-ins when the tenant already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--leads", type=int, default=DEFAULT_LEADS, help=f"How many leads (default {DEFAULT_LEADS})."
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"Random seed (default {DEFAULT_SEED}).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_seed(leads=options["leads"], seed=options["seed"])
        if result.created:
            counts = result.counts
            self.stdout.write(
                f"Seeded demo data in {result.seconds:.1f}s, all through the intake pipeline: {counts['leads']} leads "
                f"({counts['assigned']} assigned to {counts['reps']} reps), {counts['merged']} re-submissions "
                f"collected into their leads, {counts['quarantined']} submissions quarantined "
                f"(an admin reviews them at /{result.tenant.slug}/quarantine 隔离区)."
            )
        else:
            self.stdout.write("Demo tenant already exists; nothing changed. 演示租户已存在, 未做任何修改。")
        self.stdout.write(self._logins(result))

    @staticmethod
    def _logins(result: DemoResult) -> str:
        tenant = result.tenant
        lines = ["", f"Demo tenant 演示租户: {tenant.slug} ({tenant.name})", "  Log in 登录 (e-mail / password):"]
        labels = {
            "owner": "admin    管理员", "admin": "admin    管理员",
            "manager": "manager  销售经理", "rep": "rep      销售代表",
        }
        for login in result.logins:
            label = labels.get(login.role, f"{login.role:<8}")
            who = " ".join(part for part in (login.name, login.team) if part and part != login.email)
            lines.append(f"    {label}  {login.email} / {login.password}" + (f"   ({who})" if who else ""))
        if result.api_key:
            lines.append(f"  API key 接口密钥: {result.api_key}   (shown only this once 仅显示一次)")
        else:
            lines.append("  API key 接口密钥: shown only when the tenant was created (create another as its admin).")
        return "\n".join(lines) + "\n"
