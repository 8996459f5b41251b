"""Customers tests: Microsoft's identity platform in-process (the simulator behind the console's client)."""

from collections.abc import Iterator

import httpx
import pytest

from portal.microsoft.identity import IdentityClient
from portal.microsoft.service import set_identity_client
from portal.microsoft.simulator import MicrosoftSimulator, SimulatedBrowser


@pytest.fixture
def simulator() -> MicrosoftSimulator:
    return MicrosoftSimulator(public_url="http://simulator.test")


@pytest.fixture
def identity(simulator: MicrosoftSimulator) -> Iterator[IdentityClient]:
    client = IdentityClient(
        client_id="console-dev-client",
        client_secret="console-dev-secret",
        authority_base="https://login.microsoftonline.com",
        simulator_url="http://simulator.test",
        transport=httpx.WSGITransport(app=simulator),
    )
    set_identity_client(client)
    yield client
    set_identity_client(None)
    client.close()


@pytest.fixture
def browser(simulator: MicrosoftSimulator) -> Iterator[SimulatedBrowser]:
    with httpx.Client(transport=httpx.WSGITransport(app=simulator)) as http:
        yield SimulatedBrowser(http)
