"""Connectors: how each regional system's offers reach the hub.

``base.py`` holds the contract (gather → fetch → read) and the abstract hooks a connector
fills in; ``dialect.py`` the read-stage tools; ``codes.py`` the local-code translation
some regions need; ``registry.py`` the lookup by entry point. Each regional system has a
package here holding its connector and its dialect. Fetching goes through the hub's one
HTTP stack (:mod:`hub.http`); connectors never write to the store and know no web
framework. Their simulators live in the development package ``simulators/``.
"""
