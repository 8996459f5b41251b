"""Customers tests: Microsoft's identity platform in-process (the simulator behind the console's client)."""

from tests.portal.authentication.microsoft_support import browser, identity, simulator  # noqa: F401 (fixtures)
