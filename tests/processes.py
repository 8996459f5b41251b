"""Real processes for integration tests: a Celery worker and a web server on the test database.

They see only committed rows, so integration tests use the partners that the session setup
committed (alpha, beta) and change nothing they do not restore.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    config = connection.settings_dict
    user = quote(config.get("USER") or "postgres")
    password = f":{quote(config['PASSWORD'])}" if config.get("PASSWORD") else ""
    # an embedded server listens on a unix socket, which DATABASE_URL may carry as ?host=<dir>
    host = config.get("HOST") or config.get("OPTIONS", {}).get("host") or ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    if host.startswith("/"):
        return f"postgres://{user}{password}@{quote(host, safe='')}{port}/{config['NAME']}"
    return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_environment(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="portal.settings.test",
        CELERY_TASK_ALWAYS_EAGER="0",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        PYTHONPATH=str(ROOT),
    )
    environment.update(extra)
    return environment


def wait_for(predicate, *, timeout: float, interval: float = 0.1, process: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(interval)
    return False


@contextmanager
def running(command: list[str], environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as output:
        process = subprocess.Popen(command, env=environment, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def celery_worker_command(queue: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "-P",
        "solo",
        "-Q",
        queue,
        "-l",
        "INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]


def web_server_command(port: int, *, threading: bool = False) -> list[str]:
    """Django's server on `port`; one request at a time unless `threading` (a browser that opens several
    pages at once: each thread has its own database connection)."""
    command = [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"]
    return command if threading else [*command, "--nothreading"]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
