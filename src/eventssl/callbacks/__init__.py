"""Lightning callbacks over `eventssl.evaluation`."""

from eventssl.callbacks.probe import Probe

__all__ = ["Probe"]
