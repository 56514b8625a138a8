"""eventssl: self-supervised learning on event sequences (MLEM, arXiv 2401.15935)."""

__version__ = "0.1.0"
