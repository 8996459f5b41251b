"""Microsoft Partner Center (CSP direct): REST v1 client, provider adapter and simulator."""
