"""Delivering lszoo maps and models outside PyTorch: ONNX export (for QGIS / Deepness),
Cloud-Optimized GeoTIFF output and STAC items. Submodules import their optional dependencies
(``onnx``, ``onnxruntime``, ``pystac``) only when used."""
