"""ALSO Cloud Marketplace ("SimpleAPI"): wire client, adapter to the provider protocol, simulator."""
