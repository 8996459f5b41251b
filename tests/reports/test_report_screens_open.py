"""Every Report center screen and export opens for the administrator on a partner with history."""

import pytest

Q1 = "preset=custom&first_month=2024-01&last_month=2024-03"
URLS = [
    "/reports/",
    "/reports/usage/",
    "/reports/usage/?day=2024-02-01",
    "/reports/usage/?view=customers",
    "/reports/usage/?view=customers&day=2024-02-01",
    "/reports/usage/export/?format=csv",
    "/reports/usage/export/?format=xlsx&day=2024-02-01",
    "/reports/operations/",
    "/reports/operations/?period=custom&start=2024-01-01&end=2024-03-31",
    "/reports/operations/export/?format=xlsx",
    "/reports/activity/",
    "/reports/activity/?actor=admin@alpha.example",
    "/reports/activity/export/?format=xlsx",
    "/reports/activity/export/?actor=admin@alpha.example",
    "/reports/cost/",
    "/reports/cost/export/?format=xlsx",
    "/reports/custom/",
    "/reports/custom/?dimension=marketplace&measure=revenue",
    "/reports/custom/?dimension=country&measure=cost",
    "/reports/custom/export/?dimension=status&measure=subscriptions&format=xlsx",
    "/reports/billing/",
    "/reports/billing/?preset=last_3",
    "/reports/billing/?preset=last_12",
    "/reports/billing/?preset=current_cycle",
    f"/reports/billing/?{Q1}",
    f"/reports/billing/export/?{Q1}&format=xlsx",
    "/reports/billing/billing-day/",
    "/reports/reconciliation/",
    "/reports/reconciliation/?month=2024-02&gap=any",
    "/reports/reconciliation/export/?month=2024-02&format=xlsx",
]


@pytest.mark.parametrize("url", URLS)
def test_the_screen_opens(billing_world, alpha_admin_client, url):
    response = alpha_admin_client.get(url)
    assert response.status_code == 200


def test_a_customers_report_its_pdf_and_a_subscriptions_history_open(billing_world, alpha_admin_client):
    customer = billing_world.ours.pk
    assert alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={customer}").status_code == 200
    response = alpha_admin_client.get(f"/reports/billing/pdf/?{Q1}&customer={customer}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert alpha_admin_client.get(f"/reports/usage/{billing_world.ours_tracked.pk}/").status_code == 200


def test_htmx_requests_get_the_results_fragment(billing_world, alpha_admin_client):
    for url in ("/reports/usage/", "/reports/activity/", "/reports/operations/", "/reports/reconciliation/"):
        page = alpha_admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert page.lstrip().startswith('<div id="results">'), url


def test_the_period_shown_is_the_period_the_rows_cover(billing_world, alpha_admin_client):
    """Without a period in the query string the select shows the default preset the rows cover."""
    from datetime import timedelta

    from django.utils import timezone

    page = alpha_admin_client.get("/reports/operations/").content.decode()
    assert '<option value="30d" selected>' in page
    today = timezone.localdate()
    start = today - timedelta(days=29)
    assert f"{start:%Y-%m-%d}" in page or f"{start:%m/%d/%Y}" in page

    page = alpha_admin_client.get("/reports/operations/?period=7d").content.decode()
    assert '<option value="7d" selected>' in page


@pytest.mark.parametrize("url", ["/reports/operations/", "/reports/activity/"])
def test_an_inverted_custom_range_is_refused_not_replaced(billing_world, alpha_admin_client, url):
    query = "period=custom&start=2024-03-31&end=2024-01-01"
    swapped = alpha_admin_client.get(f"{url}?{query}", HTTP_HX_REQUEST="true").content.decode()
    assert "The period ends before it starts." in swapped
    assert 'data-testid="period-shown"' not in swapped
    export = alpha_admin_client.get(f"{url}export/?{query}&format=csv")
    assert export.status_code == 400
    assert "The period ends before it starts." in export.content.decode()
