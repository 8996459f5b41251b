"""Production refuses development values.

The findings: with DEBUG off the console still signed in with the identity simulator's app
(MICROSOFT_CLIENT_ID / SECRET defaulted to it), a `<MARKETPLACE>_SIMULATOR_URL` left in the environment
sent decrypted marketplace credentials to whatever server it named, and with no .dockerignore `COPY . .`
put .dev (mail with reset links, the embedded database), .venv and .git into the image.
"""

import subprocess
import sys

from tests.portal.core.test_settings import production_environment
from tests.processes import ROOT

SHOW = (
    "from django.conf import settings; from marketplace.connections import server_url_for; "
    "print(repr(settings.MICROSOFT_CLIENT_ID), repr(settings.MICROSOFT_SIMULATOR_URL), "
    "repr(settings.ALSO_SIMULATOR_URL), repr(server_url_for('also')), repr(server_url_for('alef')), "
    "repr(server_url_for('somewhere_new')))"
)


def manage(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = production_environment(**{name: value for name, value in environment.items() if value is not None})
    for name in [name for name, value in environment.items() if value is None]:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_does_not_start_on_the_simulators_app():
    for values in (
        {"MICROSOFT_CLIENT_ID": None, "MICROSOFT_CLIENT_SECRET": None},
        {"MICROSOFT_CLIENT_ID": "console-dev-client", "MICROSOFT_CLIENT_SECRET": "console-dev-secret"},
        {"MICROSOFT_CLIENT_SECRET": "console-dev-secret"},
    ):
        result = manage("check", **values)

        assert result.returncode != 0, values
        assert "MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET must be set" in result.stderr


def test_simulator_urls_are_ignored_with_a_warning_when_debug_is_off():
    result = manage(
        "shell",
        "-c",
        SHOW,
        MICROSOFT_SIMULATOR_URL="http://evil.example:8100",
        ALSO_SIMULATOR_URL="http://evil.example:8201",
        ALEF_SIMULATOR_URL="http://evil.example:8204",
        SOMEWHERE_NEW_SIMULATOR_URL="http://evil.example:8299",
    )

    assert result.returncode == 0, result.stderr
    assert "'' '' None None None" in result.stdout  # after the client id: nothing points at evil.example
    assert "evil.example" not in result.stdout
    for name in ("MICROSOFT_SIMULATOR_URL", "ALSO_SIMULATOR_URL", "ALEF_SIMULATOR_URL"):
        assert f"{name} is set but ignored: simulators are for development only" in result.stderr


def test_development_still_uses_the_simulators():
    result = manage(
        "shell",
        "-c",
        SHOW,
        DEBUG="1",
        ALSO_SIMULATOR_URL="http://localhost:8201",
        MICROSOFT_CLIENT_ID=None,
        MICROSOFT_CLIENT_SECRET=None,
    )

    assert result.returncode == 0, result.stderr
    assert "'console-dev-client'" in result.stdout and "'http://localhost:8201'" in result.stdout


def test_the_image_leaves_development_state_out():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}

    for entry in (".git", ".venv", ".dev", "**/__pycache__", ".pytest_cache", ".ruff_cache", "staticfiles", "media"):
        assert entry in ignored, entry


IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import django
django.setup()
from django.conf import settings
from django.urls import get_resolver
get_resolver().url_patterns  # every view module of the URLconf
count = 0
for package in ("catalog", "customers", "marketplace", "orders", "pool_assignments", "pools", "portal", "reports",
                "resellers", "subscriptions"):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(module.name)
        count += 1
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("simulators", "demo", "tests", "bench"))
print(count, "modules", loaded, "demo" in settings.INSTALLED_APPS)
"""


def test_the_image_runs_without_the_simulators_the_demo_and_the_tests(tmp_path):
    """The image is the repository minus `.dockerignore`: the product must import, check and serve without the
    development-only packages, and no module may reach for them at run time (import-linter sees only static
    imports)."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in ("simulators", "demo", "tests", "bench"):
        assert entry in ignored, entry
    image = tmp_path / "app"
    image.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in ignored or entry.name.startswith("."):
            continue
        (image / entry.name).symlink_to(entry)
    env = production_environment()
    env["PYTHONPATH"] = str(image)

    checked = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=image, env=env, capture_output=True, text=True, timeout=180
    )
    imported = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE], cwd=image, env=env, capture_output=True, text=True, timeout=180
    )
    seeding = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], cwd=image, env=env, capture_output=True, text=True, timeout=180
    )

    assert checked.returncode == 0, checked.stderr
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip().endswith("modules [] False"), imported.stdout
    assert "Unknown command: 'seed_demo'" in seeding.stderr


def test_compose_gives_the_containers_the_microsoft_app():
    compose = (ROOT / "docker-compose.yml").read_text()

    assert "MICROSOFT_CLIENT_ID: ${MICROSOFT_CLIENT_ID:?" in compose
    assert "MICROSOFT_CLIENT_SECRET: ${MICROSOFT_CLIENT_SECRET:?" in compose
