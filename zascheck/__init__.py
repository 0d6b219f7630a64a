"""zascheck: formal-numeric verification of the claims about gradient descent on
deep linear networks in the ZAS paper (Wu, Wang & Ma, NeurIPS 2019) and in the
reviews of it and of "Step Size Matters in Deep Learning" (NeurIPS 2018)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
