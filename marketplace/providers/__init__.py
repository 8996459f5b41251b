"""Marketplace providers: one package per marketplace behind the `MarketplaceProvider` protocol.

Nothing in this package imports Django: the sync engine and the services map the records
returned here to models, so providers can be exercised against their simulators alone.
"""
