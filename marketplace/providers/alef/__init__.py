"""ALEF Distribution: a distributor's reseller-scoped CSP platform reselling Microsoft with Partner Center semantics."""
