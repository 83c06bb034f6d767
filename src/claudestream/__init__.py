"""claudestream: stream Claude Messages API responses end to end."""

__version__ = "0.1.0"
