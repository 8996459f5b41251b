"""One factory module per app; every test imports its factories from here. They write to the active schema.

`tests.factories.UserFactory` stays importable from the package itself (the name most tests use).
"""

from tests.factories.accounts import UserFactory

__all__ = ["UserFactory"]
