"""The ./dev front door: the Python version is checked before anything else is imported, the help
names every command, and `./dev test` stops the embedded servers it started."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_python_version_is_checked_before_any_other_import():
    tree = ast.parse((ROOT / "dev").read_text())
    statements = [node for node in tree.body if not isinstance(node, ast.Expr)]  # skip the docstring

    first, check = statements[0], statements[1]

    assert isinstance(first, ast.Import) and [alias.name for alias in first.names] == ["sys"]
    assert isinstance(check, ast.If) and "version_info" in ast.unparse(check.test)
    assert "sys.exit" in ast.unparse(check.body[0])


def test_an_old_python_gets_the_version_message_not_a_traceback(tmp_path):
    """Run the script's opening with sys.version_info of Python 3.10, as a 3.10 interpreter would."""
    source = (ROOT / "dev").read_text()
    opening = source.split("import hashlib")[0]
    script = tmp_path / "opening.py"
    script.write_text("import sys\nsys.version_info = (3, 10, 12, 'final', 0)\n" + opening)

    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)

    assert result.returncode == 1
    assert "needs Python 3.11 or 3.12" in result.stderr and "Traceback" not in result.stderr


def test_the_help_names_every_command():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "devenv.py"), "--help"], capture_output=True, text=True, check=True
    )

    for command in ("up", "down", "test", "lint", "manage", "bench"):
        assert f"./dev {command}" in result.stdout


def _embedded_processes() -> list[str]:
    """Processes running from this checkout's .dev/ (the embedded PostgreSQL and Redis)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(ROOT / ".dev") in command or "--port 6390" in command or ":6390" in command:
            found.append(f"{entry.name}: {command}")
    return found


@pytest.mark.integration
def test_dev_test_leaves_no_embedded_server_behind():
    if _embedded_processes():
        pytest.skip("embedded servers of ./dev up are running here; ./dev test leaves those alone")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_CURRENT_TEST", "DJANGO_SETTINGS_MODULE"}
    }
    environment["CONSOLE_EMBEDDED"] = "1"

    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "devenv.py"),
            "test",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/tools/test_devenv.py::test_the_help_names_every_command",
        ],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout
    assert "Stopped the embedded PostgreSQL" in result.stdout and "Stopped the embedded Redis" in result.stdout
    assert _embedded_processes() == []
