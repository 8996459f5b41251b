"""The Cloudmore simulator as a real HTTP server: the provider talks to it over sockets, as in development."""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx
import pytest

from marketplace.providers.base import AuthenticationFailed, SubscriptionStatus, Unavailable
from marketplace.providers.cloudmore.adapter import CloudmoreProvider
from marketplace.providers.cloudmore.records import TenantDraft
from marketplace.providers.http import Timeouts
from simulators.cloudmore import (
    BASIC,
    DEMO_CONNECTION,
    CloudmoreSimulator,
    make_simulator_server,
)


def test_provider_against_the_simulator_over_real_sockets() -> None:
    simulator = CloudmoreSimulator()
    server = make_simulator_server(simulator=simulator, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_url = f"http://127.0.0.1:{server.server_port}"
    sleeps: list[float] = []
    try:
        connection = replace(DEMO_CONNECTION, server_url=server_url)
        with CloudmoreProvider(connection=connection, sleep=sleeps.append, timeouts=Timeouts(read=2)) as provider:
            assert provider.client.base_url == f"{server_url}"
            customers = {c.name: c.external_id for c in provider.list_customers()}
            assert len(customers) == 8
            tailspin = customers["Tailspin Toys AB"]
            tenant = provider.create_tenant(
                customer_external_id=tailspin,
                tenant=TenantDraft(domain_prefix="tailspinlive", first_name="T", last_name="T", email="t@t.example"),
            )
            assert tenant.domain == "tailspinlive.onmicrosoft.com"
            bought = provider.place_order_line(
                customer_external_id=tailspin,
                offer_id=f"{BASIC}:P1M:Monthly",
                quantity=4,
                idempotency_key="live-1",
            )
            assert bought.subscription.status == SubscriptionStatus.ACTIVE
            simulator.inject(kind="throttle", operation="get_subscription", retry_after=1)
            assert provider.get_subscription(subscription_external_id=bought.subscription.external_id).quantity == 4
            assert sleeps == [1.0]
            simulator.inject(kind="unavailable", operation="update_subscription", apply_first=True)
            with pytest.raises(Unavailable):
                provider.change_quantity(subscription_external_id=bought.subscription.external_id, quantity=6)
            assert simulator.call_counts["update_subscription"] == 1

        with httpx.Client(base_url=server_url) as control:
            state = control.get("/_control/state").json()
            assert state["calls"]["create_subscription"] == 1 and state["emails"] == 1
            assert control.get("/_control/emails").json()[0]["to"] == "t@t.example"

        wrong = replace(connection, secret="wrong")
        with CloudmoreProvider(connection=wrong) as refused:
            with pytest.raises(AuthenticationFailed, match="invalid_username_or_password"):
                list(refused.list_customers())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not thread.is_alive()
