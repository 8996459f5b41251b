"""Marketplace engine tests: the ALSO simulator in-process, partner alpha's schema, factories."""

from collections.abc import Iterator

import httpx
import pytest

from marketplace.connections import override_provider_transport
from simulators import simulator_module
from simulators.also import AlsoSimulator


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the provider's HTTP client asked for (nothing really sleeps)."""
    return []


@pytest.fixture
def simulator(sleeps) -> Iterator[AlsoSimulator]:
    """A fresh ALSO simulator with its demo data, serving every ALSO provider the console builds."""
    also = AlsoSimulator()
    with override_provider_transport("also", httpx.WSGITransport(app=also), sleep=sleeps.append):
        yield also


@pytest.fixture
def eager_retries():
    """Let eager tasks retry as a worker would: Celery re-raises `Retry` when eager tasks propagate errors."""
    from portal.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


OTHER_MARKETPLACES = ("partner_center", "cloudmore", "alef")


@pytest.fixture
def in_process() -> Iterator[dict]:
    """Partner Center, Cloudmore and ALEF each served by a fresh in-process simulator with its demo data."""
    simulators = {slug: simulator_module(slug).create_simulator() for slug in OTHER_MARKETPLACES}
    with (
        override_provider_transport(
            "partner_center", httpx.WSGITransport(app=simulators["partner_center"]), sleep=lambda seconds: None
        ),
        override_provider_transport(
            "cloudmore", httpx.WSGITransport(app=simulators["cloudmore"]), sleep=lambda seconds: None
        ),
        override_provider_transport("alef", httpx.WSGITransport(app=simulators["alef"]), sleep=lambda seconds: None),
    ):
        yield simulators
