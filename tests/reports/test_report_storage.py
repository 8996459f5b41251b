"""The storage consumption report, from the identity simulator's Microsoft Graph usage reports."""

import csv
import io
from collections.abc import Iterator

import httpx
import pytest
from django_tenants.utils import schema_context

from customers.models import Customer, CustomerTenant
from portal.microsoft.graph_reports import GraphReports, set_graph_reports
from reports.models import StorageSnapshot
from simulators.identity import DEFAULT_CLIENT_ID
from tests.portal.authentication.microsoft_support import CONTOSO, identity, simulator  # noqa: F401

GRAPH = "http://simulator.test/graph"


@pytest.fixture
def reports(simulator, identity) -> Iterator[GraphReports]:  # noqa: F811
    reader = GraphReports(identity=identity, graph_url=GRAPH, transport=httpx.WSGITransport(app=simulator))
    set_graph_reports(reader)
    yield reader
    set_graph_reports(None)
    reader.close()


@pytest.fixture
def contoso(partner_alpha, simulator):  # noqa: F811
    simulator.grant_consent(tid=CONTOSO, client_id=DEFAULT_CLIENT_ID)
    with schema_context(partner_alpha.schema_name):
        customer = Customer.objects.create(name="Contoso Ltd", country="DE")
        tenant = CustomerTenant.objects.create(
            customer=customer, tenant_id=CONTOSO, primary_domain="contoso.onmicrosoft.com", consent_state="consented"
        )
    return customer, tenant


def test_the_simulator_answers_graphs_storage_report_as_a_redirect_to_a_csv(simulator, identity):  # noqa: F811
    simulator.grant_consent(tid=CONTOSO, client_id=DEFAULT_CLIENT_ID)
    token = identity.acquire_app_token(tenant_id=CONTOSO)
    with httpx.Client(transport=httpx.WSGITransport(app=simulator)) as http:
        url = f"{GRAPH}/v1.0/reports/getMailboxUsageStorage(period='D7')"
        answer = http.get(url, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 302
        download = http.get(answer.headers["Location"])
        assert download.content.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(download.content.decode().lstrip("\ufeff"))))
        assert len(rows) == 7 and rows[0]["Report Period"] == "7"
        assert rows[0]["Report Date"] > rows[1]["Report Date"]  # newest first
        assert http.get(url).status_code == 401
        refused = http.get(url.replace("D7", "D5"), headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadRequest"


def test_the_storage_report_reads_the_tenants_storage_and_shows_a_card_per_customer(
    partner_alpha, contoso, reports, alpha_admin_client
):
    customer, tenant = contoso
    response = alpha_admin_client.post("/reports/storage/")
    assert response.status_code == 302
    with schema_context(partner_alpha.schema_name):
        snapshots = list(StorageSnapshot.objects.filter(customer_tenant=tenant).order_by("day"))
        assert len(snapshots) == 30
        latest = snapshots[-1]
        assert latest.mailbox_bytes > 0 and latest.onedrive_bytes > 0 and latest.sharepoint_bytes > 0
        assert snapshots[0].mailbox_bytes < latest.mailbox_bytes  # the trend grows towards today
    page = alpha_admin_client.get("/reports/storage/").content.decode()
    assert f'data-customer="{customer.pk}"' in page and "Contoso Ltd" in page
    swapped = alpha_admin_client.get("/reports/storage/", headers={"HX-Request": "true"}).content.decode()
    assert swapped.lstrip().startswith('<div id="results">')
    detail = alpha_admin_client.get(f"/reports/storage/{customer.pk}/").content.decode()
    assert 'id="storage-chart-data"' in detail and f'data-tenant="{tenant.pk}"' in detail

    # read again: the same days are replaced, not added
    alpha_admin_client.post("/reports/storage/")
    with schema_context(partner_alpha.schema_name):
        assert StorageSnapshot.objects.filter(customer_tenant=tenant).count() == 30


def test_a_tenant_without_consent_is_reported_and_skipped(partner_alpha, simulator, reports, alpha_admin_client):  # noqa: F811
    with schema_context(partner_alpha.schema_name):
        customer = Customer.objects.create(name="Fabrikam", country="DE")
        CustomerTenant.objects.create(
            customer=customer, tenant_id=CONTOSO, primary_domain="contoso.onmicrosoft.com", consent_state="consented"
        )
    response = alpha_admin_client.post("/reports/storage/", follow=True)
    assert "contoso.onmicrosoft.com" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not StorageSnapshot.objects.exists()
