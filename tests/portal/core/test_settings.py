import os
import secrets
import subprocess
import sys

from tests.processes import ROOT


def production_environment(**extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"} and not key.endswith("_SIMULATOR_URL")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        SECRET_KEY=secrets.token_urlsafe(60),
        PORTAL_DOMAIN="console.example.com",
        MICROSOFT_CLIENT_ID="5f0c8d0e-8d4b-4c1e-9a59-2f1f0b7a3c11",
        MICROSOFT_CLIENT_SECRET=secrets.token_urlsafe(30),
    )
    environment.update(extra)
    return environment


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    environment = production_environment()
    del environment["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_refuses_to_start_without_the_microsoft_app():
    for missing in ("MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET"):
        environment = production_environment()
        del environment[missing]
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert result.returncode != 0, missing
        assert "MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET must be set" in result.stderr
