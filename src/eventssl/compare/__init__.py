"""Method comparison: several methods × seeds, evaluated and reported side by side."""

from eventssl.compare.run import main

__all__ = ["main"]
