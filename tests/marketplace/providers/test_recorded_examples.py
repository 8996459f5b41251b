"""Answers the marketplaces' own documentation prints, replayed against our clients and adapters: what
the real API was shown to send must read into the same records the simulators' answers do.

Sources: Partner Center SDK docs, develop/get-a-list-of-available-licenses.md and
develop/get-subscription-provisioning-status.md (response examples); ALSO's published SimpleAPI spec
(MarketplaceSimpleAPI 1.0.0, the SimpleCreditLimitRecord example values)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from marketplace.providers.also.adapter import AlsoProvider
from marketplace.providers.base import ProviderConnection, SubscriptionStatus
from marketplace.providers.partner_center.adapter import PartnerCenterProvider
from simulators.partner_center import DEMO_CONNECTION

SUBSCRIBED_SKUS_EXAMPLE = {
    "totalCount": 2,
    "items": [
        {
            "availableUnits": 4,
            "activeUnits": 5,
            "consumedUnits": 1,
            "suspendedUnits": 0,
            "totalUnits": 5,
            "warningUnits": 0,
            "productSku": {
                "id": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
                "name": "Enterprise Mobility + Security E3",
                "skuPartNumber": "EMS",
                "targetType": "User",
                "licenseGroupId": "group1",
            },
            "servicePlans": [],
            "capabilityStatus": "Enabled",
            "attributes": {"objectType": "SubscribedSku"},
        },
        {
            "availableUnits": 0,
            "activeUnits": 1,
            "consumedUnits": 1,
            "suspendedUnits": 0,
            "totalUnits": 1,
            "warningUnits": 0,
            "productSku": {
                "id": "f8a1db68-be16-40ed-86d5-cb42ce701560",
                "name": "Power BI Pro",
                "skuPartNumber": "POWER_BI_PRO",
                "targetType": "User",
                "licenseGroupId": "group1",
            },
            "servicePlans": [],
            "capabilityStatus": "Enabled",
            "attributes": {"objectType": "SubscribedSku"},
        },
    ],
    "attributes": {"objectType": "Collection"},
}
PROVISIONING_STATUS_EXAMPLE = {
    "skuId": "6FD2C87F-B296-42F0-B197-1E91E994B900",
    "status": "success",
    "quantity": 5,
    "endDate": "2018-05-10T00:00:00Z",
    "attributes": {"objectType": "SubscriptionProvisioningStatus"},
}
CREDIT_LIMIT_EXAMPLE = (
    '{"Comment": "credit limit reason", "Currency": "EUR", "Date": "2020-01-03T11:22:33.456", "Limit": 600, '
    '"RemainingCreditLimit": 400, "HasCreditLimit": true, "CreatedByAccountId": 100002, "IsLocked": false}'
)
TOKEN = {"token_type": "Bearer", "expires_in": 3599, "access_token": "a.b.c", "refresh_token": "rotated"}


def partner_center_replaying(answers: dict[str, object]) -> PartnerCenterProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/v2.0/token"):
            return httpx.Response(200, json=TOKEN)
        for suffix, body in answers.items():
            if request.url.path.endswith(suffix):
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"code": 404, "description": "not recorded"})

    return PartnerCenterProvider(connection=DEMO_CONNECTION, transport=httpx.MockTransport(handler))


def test_the_documented_subscribed_skus_answer_reads_as_tenant_licences() -> None:
    with partner_center_replaying({"/subscribedskus": SUBSCRIBED_SKUS_EXAMPLE}) as provider:
        records = provider.list_tenant_licences(customer_external_id="0c39d6d5-c70d-4c55-bc02-f620844f3fd1")
    ems = next(record for record in records if record.sku_part_number == "EMS")
    assert (ems.product_name, ems.purchased, ems.assigned, ems.unassigned) == (
        "Enterprise Mobility + Security E3",
        5,
        1,
        4,
    )
    assert next(r for r in records if r.sku_part_number == "POWER_BI_PRO").unassigned == 0


def test_the_documented_provisioning_status_answer_reads_as_settled() -> None:
    with partner_center_replaying({"/provisioningstatus": PROVISIONING_STATUS_EXAMPLE}) as provider:
        status = provider.provisioning_status(
            subscription_external_id="0c39d6d5-c70d-4c55-bc02-f620844f3fd1:34828c05-c16c-4d6f-9cfc-4d2650ef19a1"
        )
    assert status == SubscriptionStatus.ACTIVE


def test_the_specs_credit_limit_example_reads_as_a_credit_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        operation = request.url.path.rsplit("/", 1)[-1]
        if operation == "GetSessionToken":
            return httpx.Response(200, content=b'"C9C5MlqrpMwG/6bQ3mAVlm0Z6hi/eh1vsQs4i1I/g=="')
        if operation == "GetCompany":
            return httpx.Response(200, json=[{"AccountId": 100001, "AccountType": "Reseller"}])
        if operation == "GetCreditLimit":
            assert json.loads(request.content) == {"accountId": 100001}
            return httpx.Response(200, content=CREDIT_LIMIT_EXAMPLE.encode())
        return httpx.Response(200, content=b"null")

    connection = ProviderConnection(region="de", username="user", secret="secret")
    with AlsoProvider(connection=connection, transport=httpx.MockTransport(handler)) as provider:
        record = provider.credit_limit()
    assert (record.limit, record.remaining, record.currency, record.comment) == (
        Decimal(600),
        Decimal(400),
        "EUR",
        "credit limit reason",
    )
    assert record.set_at is not None and record.set_at.year == 2020
