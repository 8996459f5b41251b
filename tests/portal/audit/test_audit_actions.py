"""Every audit action the code records is an AuditAction member, and the trail shows its label."""

import ast
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django_tenants.utils import schema_context

from portal.audit.choices import AuditAction
from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from portal.authentication.choices import ThrottleScope
from portal.authentication.services_throttle import LOCK_ACTIONS
from subscriptions.services_lifecycle import action_specs

ROOT = Path(settings.BASE_DIR)
SKIP = {".venv", ".dev", "tests", "node_modules", "static"}
# The calls that take an action: audit_record(action=...) and the lifecycle's _audit(actor, action, ...).
AUDIT_CALLS = {"audit_record": "action", "_audit": 1}


def _action_arguments():
    for path in ROOT.rglob("*.py"):
        if SKIP & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        # a helper in AUDIT_CALLS forwards its own (checked) argument to audit_record
        forwarded = {
            id(node)
            for helper in ast.walk(tree)
            if isinstance(helper, ast.FunctionDef) and helper.name in AUDIT_CALLS
            for node in ast.walk(helper)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in forwarded:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in AUDIT_CALLS:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            position = AUDIT_CALLS[name]
            if isinstance(position, int):
                yield where, node.args[position] if len(node.args) > position else None
            else:
                yield where, next((kw.value for kw in node.keywords if kw.arg == position), None)


def _problems(where: str, expression: ast.expr | None) -> list[str]:
    if isinstance(expression, ast.IfExp):
        return _problems(where, expression.body) + _problems(where, expression.orelse)
    if (
        isinstance(expression, ast.Attribute)
        and isinstance(expression.value, ast.Name)
        and expression.value.id == "AuditAction"
    ):
        known = expression.attr in AuditAction.__members__
        return [] if known else [f"{where}: no member AuditAction.{expression.attr}"]
    if isinstance(expression, ast.Call) and getattr(expression.func, "id", None) == "AuditAction":
        return []  # converted at call time: an unknown value raises ValueError there
    if isinstance(expression, ast.Subscript) and getattr(expression.value, "id", None) == "LOCK_ACTIONS":
        return []  # a table of members, checked below
    shown = ast.unparse(expression) if expression is not None else "no action"
    return [f"{where}: {shown} is not an AuditAction member"]


def test_every_audit_call_in_the_code_passes_a_member():
    found = list(_action_arguments())
    assert len(found) > 100  # the scan sees the services, not nothing
    problems = [problem for where, expression in found for problem in _problems(where, expression)]
    assert problems == []


def test_the_actions_built_at_call_time_are_members():
    order_actions = [key for key, spec in action_specs().items() if spec.kind is not None and key != "convert_trial"]
    assert order_actions
    for key in order_actions:
        assert AuditAction(f"subscription.{key}")
    assert set(LOCK_ACTIONS) == set(ThrottleScope)
    assert all(isinstance(action, AuditAction) for action in LOCK_ACTIONS.values())


def test_the_stored_values_keep_their_three_historic_shapes():
    assert AuditAction.CUSTOMER_CREATE == "customer.create"
    assert AuditAction.CATEGORY_CREATE == "catalog.category_create"
    assert AuditAction.MARKETPLACE_ACCOUNT_CREATE == "marketplace.account.create"
    assert len(set(AuditAction.values)) == len(AuditAction.values)


def test_the_trail_shows_the_label_in_the_readers_language_and_an_unknown_code_as_it_is():
    event = AuditEvent(action="customer.create")
    with translation.override("en"):
        assert event.action_label == "Customer created"
    with translation.override("de"):
        assert event.action_label == "Kunde erstellt"
    with translation.override("ja"):
        assert event.action_label == "顧客を作成"
    assert AuditEvent(action="retired.action").action_label == "retired.action"


def test_the_audit_log_screen_names_the_action_and_the_actor_never_their_codes(partner_alpha, alpha_admin_client):
    with schema_context(partner_alpha.schema_name):
        audit_record(actor="automation", action=AuditAction.ROLE_CREATE, target_label="Desk")

    body = alpha_admin_client.get("/settings/audit-logs/").content.decode()

    assert "<td>Role created</td>" in body
    assert ">role.create<" not in body  # the stored value stays in the filter's option value and the export
    assert "Automation" in body and ">automation<" not in body
    filtered = alpha_admin_client.get("/settings/audit-logs/", {"action": "role.create"}).content.decode()
    assert '<option value="role.create" selected>Role created</option>' in filtered
