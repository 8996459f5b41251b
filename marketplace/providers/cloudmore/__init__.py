"""Cloudmore: a cloud service broker platform reselling Microsoft CSP (NCE) among other services."""
