"""The LHEO sync hub: regional LHEO offers in, one national consolidated offer out."""

__version__ = "0.1.0"
