"""High-level Python API (inference, scene mapping)."""
