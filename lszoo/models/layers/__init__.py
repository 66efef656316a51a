"""lszoo layers."""
