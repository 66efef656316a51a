"""Data transforms for N-band float imagery (registered in ``TRANSFORMS``)."""
from .augment import (LANDSLIDE_META_KEYS, NormalizeBands, OpticalPhotometric,  # noqa: F401
                      RandomRot90)
from .loading import (AlphaBandWarning, InvalidImageWarning,  # noqa: F401
                      InvalidPixelWarning, LoadLandslideAnnotations, LoadLandslideSample)
from .noise import RandomGaussianNoise, RandomSaltPepper  # noqa: F401
from .clahe import BandCLAHE  # noqa: F401
from .geonext_augment import BandColorJitter, RandomElasticDeform  # noqa: F401
from .inventory_loading import LoadInventoryWindow  # noqa: F401
from .tta import D4View  # noqa: F401
from .sen12_loading import LoadSen12Sample, Sen12Normalize  # noqa: F401
from .bitemporal import (DatewisePhotometric, LoadBitemporalSample,  # noqa: F401
                         RandomMisregistration)
