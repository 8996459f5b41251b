"""API tests: the lifecycle tests' ALEF world (the simulator in-process), partner alpha's schema."""

from tests.subscription_lifecycle.conftest import alef, alef_account, contoso, manager, sleeps  # noqa: F401
