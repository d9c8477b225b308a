"""What the hub publishes: the national feed, GeoJSON, CSV, key figures, publishers."""
