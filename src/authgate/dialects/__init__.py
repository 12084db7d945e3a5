"""The HTTP dialects authgate speaks, each a thin adapter over the core."""
