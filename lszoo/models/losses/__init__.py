"""lszoo losses."""
