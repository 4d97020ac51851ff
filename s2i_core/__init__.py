"""Score2Instruct: explainable video quality assessment with video LMMs (arXiv 2506.21011)."""

from s2i_core.dimensions import DIMENSIONS, LEVELS
from s2i_core.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["DIMENSIONS", "LEVELS", "hookimpl", "__version__"]
