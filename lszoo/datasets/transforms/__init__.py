"""Data transforms for N-band float imagery (registered in ``TRANSFORMS``)."""
