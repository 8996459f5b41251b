"""Microsoft sign-in driven end to end: the console, its public callback, and the identity simulator in-process.

The fixtures are imported by the conftest of each test folder that drives Microsoft sign-in.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client

from portal.microsoft.identity import IdentityClient
from portal.microsoft.service import set_identity_client
from simulators.identity import MicrosoftSimulator, SimulatedBrowser

CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
MEGAN = "megan@contoso.onmicrosoft.com"
ADELE = "adele@contoso.onmicrosoft.com"
PUBLIC_HOST = "console.test"
CALLBACK_URL = f"http://{PUBLIC_HOST}/microsoft/callback/"


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


@dataclass
class MicrosoftFlow:
    """One person's trip: the partner host's session client, Microsoft's pages, the public callback, and back."""

    client: Client
    browser: SimulatedBrowser
    start_path: str = "/microsoft/sign-in/"

    def start(self, **data) -> str:
        response = self.client.post(self.start_path, data)
        assert response.status_code == 302, response.content.decode()[:500]
        assert response["Location"].startswith("http://simulator.test/organizations/oauth2/v2.0/authorize?")
        return response["Location"]

    def at_microsoft(self, auth_uri: str, *, username: str | None = MEGAN, cancel: bool = False) -> dict[str, str]:
        callback = self.browser.sign_in(auth_uri, username=username, cancel=cancel)
        assert (callback.method, callback.url) == ("POST", CALLBACK_URL)  # form_post to the ONE public callback
        return callback.params

    def callback(self, params: dict[str, str]):
        return Client(HTTP_HOST=PUBLIC_HOST).post("/microsoft/callback/", params)

    def back_at_partner(self, params: dict[str, str]):
        handed = self.callback(params)
        assert handed.status_code == 302, handed.content.decode()[:500]
        location = urlsplit(handed["Location"])
        assert f"{location.scheme}://{location.netloc}" == f"http://{self.client.defaults['HTTP_HOST']}"
        return self.client.get(f"{location.path}?{location.query}")

    def run(self, *, username: str | None = MEGAN, cancel: bool = False, **data):
        return self.back_at_partner(self.at_microsoft(self.start(**data), username=username, cancel=cancel))


@pytest.fixture
def microsoft(identity: IdentityClient, browser: SimulatedBrowser):
    """microsoft(client) -> a MicrosoftFlow for that partner-host session client."""

    def make(client: Client, *, start_path: str = "/microsoft/sign-in/") -> MicrosoftFlow:
        return MicrosoftFlow(client=client, browser=browser, start_path=start_path)

    return make


def directory_user(simulator: MicrosoftSimulator, username: str):
    """The simulator's account for a sign-in name (its tid and oid are what the console links)."""
    return next(u for d in simulator.directories for u in d.users if u.preferred_username.lower() == username.lower())


def link_identity(partner, user, simulator: MicrosoftSimulator, username: str):
    """A link made earlier (from My profile or an invitation), as the database holds it."""
    from django_tenants.utils import schema_context

    from portal.authentication.models import MicrosoftIdentity

    account = directory_user(simulator, username)
    with schema_context(partner.schema_name):
        return MicrosoftIdentity.objects.create(user=user, tid=account.tid, oid=account.oid, username=username)


def trust_directory(partner, tid: str, name: str = ""):
    from django_tenants.utils import schema_context

    from portal.authentication.models import TrustedDirectory

    with schema_context(partner.schema_name):
        return TrustedDirectory.objects.create(tid=tid, name=name)
