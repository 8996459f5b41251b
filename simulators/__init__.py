"""The marketplaces and the Microsoft identity platform as the console meets them, for development, demos,
tests and benchmarks: one module per marketplace (`also`, `partner_center`, `cloudmore`, `alef`), the
identity platform (`identity`, which also serves Graph), and what they share (`harness`, `serving`).

Each runs as a real HTTP server (`python -m simulators.<name> --port N`) or in-process behind
`httpx.WSGITransport`. Product code never imports this package (an import-linter contract says so) and the
Docker image leaves it out: the console reaches a simulator only through `<SLUG>_SIMULATOR_URL` or a
transport a test, the demo or a benchmark hands in.
"""

import importlib
from types import ModuleType


def simulator_module(slug: str) -> ModuleType:
    """The simulator of a marketplace, by its slug (`also`, `partner_center`, ...)."""
    return importlib.import_module(f"simulators.{slug}")
