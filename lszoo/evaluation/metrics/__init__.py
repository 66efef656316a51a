"""Metric implementations."""
