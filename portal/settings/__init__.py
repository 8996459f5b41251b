"""Settings modules: `base` (every deployment, read from the environment) and `test`."""
