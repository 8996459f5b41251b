"""The ALSO simulator as a real HTTP server: the provider talks to it over sockets, as in development."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import httpx
import pytest

from marketplace.providers.also.adapter import AlsoProvider, offer_id_for
from marketplace.providers.base import AuthenticationFailed, ProviderConnection, Unavailable
from marketplace.providers.http import Timeouts
from simulators.also import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    MFA_PASSWORD,
    MFA_REASON,
    MFA_USERNAME,
    AlsoSimulator,
    make_simulator_server,
)


def test_provider_against_the_simulator_over_real_sockets() -> None:
    simulator = AlsoSimulator()
    server = make_simulator_server(simulator=simulator, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_url = f"http://127.0.0.1:{server.server_port}"
    sleeps: list[float] = []
    try:
        connection = ProviderConnection(
            region="de", username=DEMO_USERNAME, secret=DEMO_PASSWORD, server_url=server_url
        )
        with AlsoProvider(connection=connection, sleep=sleeps.append, timeouts=Timeouts(read=0.3)) as provider:
            assert provider.client.base_url == f"{server_url}/de/SimpleAPI/SimpleAPIService.svc/rest/"
            customers = list(provider.list_customers())
            assert [c.name for c in customers][:3] == ["Contoso GmbH", "Fabrikam AG", "Northwind Traders GmbH"]

            offers = {o.offer_id: o for o in provider.list_offers()}
            basic = offers[
                offer_id_for(
                    service_name="1429494_NCEMicros365BusinessBasic_12909", billing_type="Monthly (no commitment) - P1M"
                )
            ]
            assert basic.cost_price == Decimal("6.07")

            result = provider.place_order_line(
                customer_external_id=customers[-2].external_id,
                offer_id=basic.offer_id,
                quantity=9,
                idempotency_key="live-order-1-line-1",
            )
            assert result.subscription.quantity == 9
            found = provider.find_applied_order_line(
                customer_external_id=customers[-2].external_id, idempotency_key="live-order-1-line-1"
            )
            assert found is not None and found.external_id == result.subscription.external_id

            # A write that outlives the read timeout is not re-sent: the simulator saw it once.
            simulator.inject(kind="latency", operation="UpdateSubscription", seconds=0.8)
            with pytest.raises(Unavailable, match="may have been applied"):
                provider.change_quantity(subscription_external_id=result.subscription.external_id, quantity=12)
            assert simulator.call_counts["UpdateSubscription"] == 1
            assert sleeps == []
            # ...and it did land once the marketplace got to it, which is why re-sending is unsafe.
            deadline = time.monotonic() + 5
            while simulator.subscriptions[int(result.subscription.external_id)].fields["Quantity"] != 12:
                assert time.monotonic() < deadline, "the delayed write never landed"
                time.sleep(0.05)
            assert provider.get_subscription(subscription_external_id=result.subscription.external_id).quantity == 12
            assert simulator.call_counts["UpdateSubscription"] == 1

        with httpx.Client(base_url=server_url) as control:
            assert control.get("/_control/state").json()["calls"]["CreateSubscription"] == 1

        mfa = ProviderConnection(region="de", username=MFA_USERNAME, secret=MFA_PASSWORD, server_url=server_url)
        with AlsoProvider(connection=mfa) as refused:
            with pytest.raises(AuthenticationFailed) as raised:
                list(refused.list_customers())
        assert str(raised.value) == MFA_REASON
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not thread.is_alive()
