"""The ALEF simulator as a real HTTP server: the reseller is a path prefix, as in development."""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx
import pytest

from marketplace.providers.alef.adapter import AlefProvider, offer_id_for
from marketplace.providers.alef.records import OperationStatus, TenantDraft
from marketplace.providers.base import Rejected
from marketplace.providers.http import Timeouts
from simulators.alef import (
    A3_FACULTY,
    BASIC,
    DEMO_CONNECTION,
    AlefSimulator,
    make_simulator_server,
)


def test_provider_against_the_simulator_over_real_sockets() -> None:
    simulator = AlefSimulator(tenant_polls=2)
    server = make_simulator_server(simulator=simulator, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_url = f"http://127.0.0.1:{server.server_port}"
    sleeps: list[float] = []
    try:
        connection = replace(DEMO_CONNECTION, server_url=server_url)
        with AlefProvider(connection=connection, sleep=sleeps.append, timeouts=Timeouts(read=2)) as provider:
            assert provider.client.base_url == f"{server_url}/demo/api/v1/"
            customers = {c.name: c.external_id for c in provider.list_customers()}
            assert len(customers) == 8
            a3 = offer_id_for(
                catalog_item_id=simulator.catalog[A3_FACULTY].catalog_item_id, term="P1Y", billing_cycle="annual"
            )
            with pytest.raises(Rejected) as refused:
                provider.place_order_line(
                    customer_external_id=customers["Fabrikam SRL"], offer_id=a3, quantity=1, idempotency_key="l-0"
                )
            assert refused.value.code == "not_eligible"

            tailspin = customers["Tailspin Toys SRL"]
            operation = provider.create_tenant(
                customer_external_id=tailspin,
                tenant=TenantDraft(domain_prefix="tailspinlive", first_name="T", last_name="T", email="t@t.example"),
            )
            done = provider.wait_for_operation(operation_id=operation.operation_id, interval_seconds=0.01)
            assert done.status == OperationStatus.SUCCEEDED and sleeps == [0.01]
            basic = offer_id_for(
                catalog_item_id=simulator.catalog[BASIC].catalog_item_id, term="P1M", billing_cycle="monthly"
            )
            bought = provider.place_order_line(
                customer_external_id=tailspin, offer_id=basic, quantity=2, idempotency_key="live-1"
            )
            assert bought.subscription.quantity == 2
            assert (
                provider.change_quantity(subscription_external_id=bought.subscription.external_id, quantity=1).quantity
                == 1
            )

        with httpx.Client(base_url=server_url) as control:
            state = control.get("/_control/state").json()
            assert state["orders"] == 1 and state["operations"]["succeeded"] == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not thread.is_alive()
