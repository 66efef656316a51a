"""lszoo backbones."""
