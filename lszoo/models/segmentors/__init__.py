"""lszoo segmentors."""
