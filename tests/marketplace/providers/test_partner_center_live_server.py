"""The Partner Center simulator as a real HTTP server: the provider talks to it over sockets, as in development."""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal

import httpx

from marketplace.providers.base import SubscriptionStatus
from marketplace.providers.http import RetryPolicy, Timeouts
from marketplace.providers.partner_center.adapter import PartnerCenterProvider, request_id_for
from simulators.partner_center import (
    CONTOSO_ID,
    DEMO_CONNECTION,
    M365_E5,
    TAILSPIN_ID,
    PartnerCenterSimulator,
    make_simulator_server,
)


def test_provider_against_the_simulator_over_real_sockets() -> None:
    simulator = PartnerCenterSimulator()
    server = make_simulator_server(simulator=simulator, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_url = f"http://127.0.0.1:{server.server_port}"
    sleeps: list[float] = []
    try:
        connection = replace(DEMO_CONNECTION, server_url=server_url)
        with PartnerCenterProvider(
            connection=connection,
            sleep=sleeps.append,
            timeouts=Timeouts(read=0.3),
            retry_policy=RetryPolicy(max_attempts=4, jitter=0.0),
        ) as provider:
            assert provider.client.base_url == f"{server_url}/v1/"
            provider.page_size = 2
            customers = list(provider.list_customers())
            assert [c.external_id for c in customers][:1] == [CONTOSO_ID] and len(customers) == 5

            offers = {o.offer_id: o for o in provider.list_offers()}
            e5 = offers["CFQ7TTC0LFLZ:0002|P1M|monthly"]
            assert (e5.cost_price, e5.currency) == (Decimal("59.08"), "EUR")

            # The checkout outlives the read timeout: the client re-sends it with the same MS-RequestId,
            # the simulator holds the duplicate until the original finishes and answers it with that result.
            simulator.inject(kind="latency", operation="Checkout", seconds=0.5)
            result = provider.place_order_line(
                customer_external_id=TAILSPIN_ID, offer_id=e5.offer_id, quantity=6, idempotency_key="live-order-1"
            )
            assert result.subscription.quantity == 6
            assert result.subscription.currency == "USD"
            assert simulator.call_counts["Checkout"] >= 2
            assert len(sleeps) >= simulator.call_counts["Checkout"] - 1  # a backoff before each re-send
            bought = [
                s for s in simulator.subscriptions.values() if s.customer_id == TAILSPIN_ID and s.sku_key == M365_E5
            ]
            assert len(bought) == 1

            found = provider.find_applied_order_line(customer_external_id=TAILSPIN_ID, idempotency_key="live-order-1")
            assert found is not None and found.external_id == result.subscription.external_id
            assert found.status == SubscriptionStatus.ACTIVE
            assert provider.change_quantity(subscription_external_id=found.external_id, quantity=8).quantity == 8

        with httpx.Client(base_url=server_url) as control:
            state = control.get("/_control/state").json()
            assert state["calls"]["CreateCart"] == 1
            assert control.post("/_control/expire_tokens", json={}).json()["ok"]
            # A raw replay of the checkout with the line's request id, over the wire, buys nothing more.
            token = control.post(
                f"/{DEMO_CONNECTION.options['tenant']}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": DEMO_CONNECTION.username,
                    "client_secret": DEMO_CONNECTION.secret,
                    "scope": "https://api.partnercenter.microsoft.com/.default",
                },
            ).json()["access_token"]
            cart_id = next(iter(simulator.carts))
            replay = control.post(
                f"/v1/customers/{TAILSPIN_ID}/carts/{cart_id}/checkout",
                headers={
                    "Authorization": f"Bearer {token}",
                    "MS-RequestId": request_id_for(purpose="checkout", customer_id=TAILSPIN_ID, key="live-order-1"),
                },
                json={},
            )
            assert replay.status_code == 201
            assert replay.json()["orders"][0]["lineItems"][0]["subscriptionId"] == bought[0].id
            assert len([s for s in simulator.subscriptions.values() if s.customer_id == TAILSPIN_ID]) == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not thread.is_alive()
