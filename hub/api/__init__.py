"""The HTTP API: push, the national feed, key figures, the dashboard, operations, auth."""
