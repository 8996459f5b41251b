"""Logs, metrics, traces, error reports and readiness: how operators see the console run."""
