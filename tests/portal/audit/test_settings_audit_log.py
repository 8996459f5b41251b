import csv
import datetime
import io

from django.utils import timezone
from django_tenants.utils import schema_context

from portal.audit.choices import AuditResult
from portal.audit.models import AuditEvent
from portal.audit.services import audit_record


def _events(partner, admin, other):
    with schema_context(partner.schema_name):
        audit_record(actor=admin, action="role.create", target=admin, after={"name": "Desk"})
        audit_record(
            actor=other,
            action="customer.update",
            target=other,
            before={"name": "Old"},
            after={"name": "=HYPERLINK(1)"},
        )
        audit_record(actor="automation", action="subscription.sync", result=AuditResult.FAILURE, message="timeout")
        old = audit_record(actor=admin, action="role.delete", target=admin)
        AuditEvent.objects.filter(pk=old.pk).update(created=timezone.now() - datetime.timedelta(days=40))


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_audit_log_lists_every_event_with_expandable_changes(
    partner_alpha, alpha_admin_client, alpha_admin, make_user
):
    _events(partner_alpha, alpha_admin, make_user("other"))

    page = alpha_admin_client.get("/settings/audit-logs/")
    body = page.content.decode()

    assert page.status_code == 200
    # what happened in words, never the stored codes; an action the trail no longer knows keeps its code
    for label in ("Role created", "Customer changed", "subscription.sync", "Role deleted"):
        assert f"<td>{label}</td>" in body
    assert ">role.create<" not in body and ">customer.update<" not in body
    assert ">accounts.user<" not in body and "User</div>" in body  # the object's kind, not "app.model #id"
    assert 'class="collapse audit-changes"' in body and "Old" in body  # before/after in a row that expands
    assert "Automation" in body and "timeout" in body


def test_the_audit_log_filters_and_the_export_honours_them(partner_alpha, alpha_admin_client, alpha_admin, make_user):
    other = make_user("other")
    _events(partner_alpha, alpha_admin, other)

    by_actor = alpha_admin_client.get(f"/settings/audit-logs/?actor={other.pk}").content.decode()
    assert "<td>Customer changed</td>" in by_actor and "<td>Role created</td>" not in by_actor
    by_action = alpha_admin_client.get("/settings/audit-logs/?action=role.create").content.decode()
    assert "<td>Role created</td>" in by_action and "<td>Role deleted</td>" not in by_action
    by_type = alpha_admin_client.get("/settings/audit-logs/?target_type=accounts.user").content.decode()
    assert "<td>subscription.sync</td>" not in by_type and "<td>Role created</td>" in by_type
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    recent = alpha_admin_client.get(f"/settings/audit-logs/?date_from={since}").content.decode()
    assert "<td>Role deleted</td>" not in recent and "<td>Role created</td>" in recent
    until = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    old = alpha_admin_client.get(f"/settings/audit-logs/?date_to={until}").content.decode()
    assert "<td>Role deleted</td>" in old and "<td>Role created</td>" not in old
    assert f"/settings/audit-logs/export.csv?date_to={until}" in old  # the export link keeps the filters
    fragment = alpha_admin_client.get("/settings/audit-logs/?action=role.create", HTTP_HX_REQUEST="true")
    assert 'id="audit-results"' in fragment.content.decode() and "<html" not in fragment.content.decode()

    everything = _csv(alpha_admin_client.get("/settings/audit-logs/export.csv"))
    assert everything[0][:4] == ["time", "actor", "action", "object_type"]
    with schema_context(partner_alpha.schema_name):
        assert len(everything) == 1 + AuditEvent.objects.count()
    assert {"role.create", "customer.update", "subscription.sync", "role.delete"} <= {row[2] for row in everything}

    rows = _csv(alpha_admin_client.get(f"/settings/audit-logs/export.csv?actor={other.pk}"))
    header, [row] = rows[0], rows[1:]
    record = dict(zip(header, row, strict=True))
    assert record["actor"] == "other@example.com"
    assert record["action"] == "customer.update"
    assert record["object_type"] == "accounts.user"
    assert record["before"] == '{"name": "Old"}'
    # a value that a spreadsheet would run as a formula is quoted
    assert record["after"] == '{"name": "=HYPERLINK(1)"}'
    failures = _csv(alpha_admin_client.get("/settings/audit-logs/export.csv?result=failure"))
    assert [dict(zip(failures[0], r, strict=True))["message"] for r in failures[1:]] == ["timeout"]


def test_a_formula_like_cell_is_neutralised_in_the_export(partner_alpha, alpha_admin_client, alpha_admin):
    with schema_context(partner_alpha.schema_name):
        audit_record(actor=alpha_admin, action="customer.create", target_label="=cmd|'/c calc'!A1")

    rows = _csv(alpha_admin_client.get("/settings/audit-logs/export.csv"))

    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["object"] == "'=cmd|'/c calc'!A1"
