"""lszoo necks."""
