"""Simulated partners the hub delivers to, for development and tests."""
