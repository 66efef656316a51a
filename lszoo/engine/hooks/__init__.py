"""Hooks registered in ``HOOKS``."""
