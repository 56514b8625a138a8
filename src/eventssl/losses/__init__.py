"""Loss functions, independent of the models."""

from eventssl.losses.contrastive import coles_margin_loss, info_nce_loss
from eventssl.losses.reconstruction import reconstruction_loss

__all__ = ["coles_margin_loss", "info_nce_loss", "reconstruction_loss"]
