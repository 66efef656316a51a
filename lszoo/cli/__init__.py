"""Helpers of lszoo's command-line tools."""
