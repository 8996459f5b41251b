from tests.portal.authentication.microsoft_support import browser, identity, microsoft, simulator  # noqa: F401
