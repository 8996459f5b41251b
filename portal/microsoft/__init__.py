"""Microsoft Entra ID integration: the msal wrapper (identity) and a local identity platform simulator (simulator).

Neither module imports Django, so both can be used from scripts, workers and tests; a thin Django layer reads
settings and calls them.
"""
