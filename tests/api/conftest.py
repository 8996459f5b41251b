"""API tests: the lifecycle tests' ALEF world (the simulator in-process), partner alpha's schema."""

from tests.subscriptions.conftest import alef, alef_account, contoso, manager, sleeps  # noqa: F401
