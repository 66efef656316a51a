"""lszoo decode heads."""
