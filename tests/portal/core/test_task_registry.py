"""A worker knows every task the console sends: the beat schedule's, the ones beat dispatches to each
partner by name, and every task the code defines (which `.delay` and `enqueue_on_commit` send).

The worker finds tasks by Celery's autodiscovery alone, so the registry is read in a fresh process that
imports nothing but the Celery app, the way `celery -A portal worker` starts.
"""

import ast
import json
import subprocess
import sys

from django.conf import settings

from tests.processes import ROOT

#: The console's own apps, as settings install them (third-party apps are not in the repository).
APPS = sorted({app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()})

REGISTRY = """
import json
import django
from portal.celery import app
django.setup()
app.loader.import_default_modules()
print(json.dumps(sorted(app.tasks)))
"""


def registered_by_autodiscovery() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", REGISTRY], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def defined_task_names() -> set[str]:
    """The `name=` of every `@shared_task(...)` in the console's apps."""
    names = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, ast.Call) or getattr(node.func, "id", None) != "shared_task":
                    continue
                names.update(
                    keyword.value.value
                    for keyword in node.keywords
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant)
                )
    return names


def scheduled_task_names() -> set[str]:
    """The beat entries' tasks and the tasks they dispatch to each partner by name."""
    names = set()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        names.add(entry["task"])
        if entry["task"] == "portal.core.tasks.dispatch_to_partners":
            names.add(entry["args"][0])
    return names


def test_autodiscovery_registers_every_scheduled_and_defined_task():
    registered = registered_by_autodiscovery()
    defined = defined_task_names()

    assert "subscriptions.tasks.lifecycle_run_due" in defined  # the scan sees the lifecycle's tasks
    assert "orders.tasks.order_place" in defined
    assert scheduled_task_names() - registered == set()
    assert defined - registered == set()
