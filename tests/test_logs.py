"""Every process logs ISO-8601 UTC times in one format (leadcrm/logs.py), whatever the host's
time zone: Django, gunicorn (its own lines and the access log) and the Celery worker."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from leadcrm.logs import UtcIsoFormatter

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ ")


def _format(created: float, msecs: float) -> str:
    record = logging.LogRecord("leadcrm.example", logging.INFO, __file__, 1, "hello", None, None)
    record.created, record.msecs = created, msecs
    return UtcIsoFormatter(settings.LOGGING["formatters"]["utc"]["format"]).format(record)


def test_log_lines_carry_utc_iso_times(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # a host in UTC+8 must still log UTC
    time.tzset()
    try:
        assert _format(1795840461.0, 123.0) == "2026-11-28T04:34:21.123Z INFO leadcrm.example hello"
    finally:
        monkeypatch.undo()
        time.tzset()


def _process_env() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "leadcrm.settings.test",
        "TZ": "Asia/Shanghai",
        "PYTHONUNBUFFERED": "1",
        "PYTHONWARNINGS": "ignore",  # Python's warnings (Celery's about running as root) are not log lines
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.slow
def test_gunicorn_access_and_own_lines_use_the_same_format(tmp_path: Path):
    port = _free_port()
    stderr = tmp_path / "gunicorn.log"
    with stderr.open("w") as out:
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "gunicorn", "leadcrm.wsgi:application", "-c", "python:leadcrm.gunicorn_config",
             "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"],
            cwd=settings.BASE_DIR, env=_process_env(), stdout=subprocess.DEVNULL, stderr=out,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/no/such/page", timeout=5)  # noqa: S310
                except urllib.error.HTTPError as error:
                    assert error.code == 404
                    break
                except OSError:
                    assert time.monotonic() < deadline and server.poll() is None, stderr.read_text()
                    time.sleep(0.2)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    lines = _log_lines(stderr.read_text())
    assert any("gunicorn.error Booting worker" in line for line in lines), lines
    assert any("gunicorn.access" in line and '"GET /no/such/page HTTP/1.1" 404' in line for line in lines), lines
    assert any("django.request Not Found: /no/such/page" in line for line in lines), lines
    assert [line for line in lines if not LINE.match(line)] == []
    assert "+0800" not in stderr.read_text()  # gunicorn's own local-time stamp is gone


@pytest.mark.slow
def test_celery_worker_logs_in_the_same_format():
    worker = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "leadcrm", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        # stdout has only the start-up banner: the log goes to stderr.
        cwd=settings.BASE_DIR, env=_process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    output: list[str] = []
    try:
        assert worker.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(" ready." in line for line in output):
            line = worker.stderr.readline()
            if not line:
                break
            output.append(line.rstrip("\n"))
    finally:
        worker.send_signal(signal.SIGTERM)
        _, rest = worker.communicate(timeout=30)
    lines = _log_lines("\n".join(output) + "\n" + rest)
    assert any("celery.apps.worker" in line and " ready." in line for line in lines), output
    assert [line for line in lines if not LINE.match(line)] == []
