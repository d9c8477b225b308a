"""Connectors: how each regional system's offers reach the hub.

``base.py`` holds the contract (gather → fetch → read), ``http.py`` the hub-owned fetcher
(client, timeouts, size limit, retries), ``dialect.py`` the read-stage tools,
``registry.py`` the lookup by entry point, and ``simulation.py`` / ``faults.py`` /
``simulators.py`` the simulated regional systems. Each regional system has a package here
holding its connector and the simulator of that system.
"""
