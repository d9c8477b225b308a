"""LHEO reading (streaming, 2.2 and 2.3), validation and writing (2.3)."""
