"""Microsoft Graph usage reports of a customer tenant: the storage its mailboxes, OneDrive and
SharePoint use, day by day (`reports/get*UsageStorage`, application permission Reports.Read.All).

Graph answers a report request with a redirect to a pre-authenticated download of a CSV file (with a
byte order mark), newest day first. Nothing here touches the database: the reports app stores it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import httpx
from django.conf import settings

from portal.microsoft.identity import GRAPH_DEFAULT_SCOPE, IdentityClient, IdentityError

STORAGE_REPORTS = {
    "mailbox": "getMailboxUsageStorage",
    "onedrive": "getOneDriveUsageStorage",
    "sharepoint": "getSharePointSiteUsageStorage",
}


class GraphReportError(Exception):
    """Graph refused or failed a report request; the message says why, in Microsoft's words."""


@dataclass
class StorageDay:
    """Bytes used on one day, per workload."""

    day: date
    used: dict[str, int] = field(default_factory=dict)


def _storage_rows(text: str) -> dict[date, int]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    used = {}
    for row in reader:
        day, value = row.get("Report Date", ""), row.get("Storage Used (Byte)", "")
        if day and value.strip().isdigit():
            used[date.fromisoformat(day)] = int(value)
    return used


class GraphReports:
    def __init__(self, *, identity: IdentityClient, graph_url: str, transport: httpx.BaseTransport | None = None):
        self._identity = identity
        self._graph_url = graph_url.rstrip("/")
        self._client = httpx.Client(transport=transport, timeout=30, follow_redirects=True)

    def storage_history(self, *, tenant_id: str, period: str = "D30") -> list[StorageDay]:
        """Storage used per day of the period, oldest first, for each workload."""
        try:
            token = self._identity.acquire_app_token(tenant_id=tenant_id, scopes=(GRAPH_DEFAULT_SCOPE,))
        except IdentityError as error:
            raise GraphReportError(str(error)) from error
        days: dict[date, StorageDay] = {}
        for workload, report in STORAGE_REPORTS.items():
            url = f"{self._graph_url}/v1.0/reports/{report}(period='{period}')"
            try:
                response = self._client.get(url, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as error:
                raise GraphReportError(str(error)) from error
            if response.status_code != 200:
                try:
                    message = response.json()["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    message = f"HTTP {response.status_code}"
                raise GraphReportError(message)
            for day, used in _storage_rows(response.content.decode("utf-8")).items():
                days.setdefault(day, StorageDay(day=day)).used[workload] = used
        return [days[day] for day in sorted(days)]

    def close(self) -> None:
        self._client.close()


_reports: GraphReports | None = None


def graph_reports() -> GraphReports:
    """The process-wide reader; with the identity simulator, its Graph endpoints. Tests replace it."""
    global _reports
    if _reports is None:
        from portal.microsoft.service import identity_client

        graph_url = (
            f"{settings.MICROSOFT_SIMULATOR_URL.rstrip('/')}/graph"
            if settings.MICROSOFT_SIMULATOR_URL
            else settings.MICROSOFT_GRAPH_URL
        )
        _reports = GraphReports(identity=identity_client(), graph_url=graph_url)
    return _reports


def set_graph_reports(reports: GraphReports | None) -> None:
    global _reports
    _reports = reports
