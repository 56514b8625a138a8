"""Self-supervised objectives as LightningModules over one shared encoder."""

from eventssl.methods.base import SSLModule
from eventssl.methods.checkpoint import load_method
from eventssl.methods.contrastive import Contrastive
from eventssl.methods.generative import Generative
from eventssl.methods.hybrid import NaiveHybrid
from eventssl.methods.mclrec import MCLRec
from eventssl.methods.mlem import MLEM
from eventssl.methods.next_item import NextItem
from eventssl.methods.supervised import Supervised

__all__ = [
    "MCLRec",
    "MLEM",
    "Contrastive",
    "Generative",
    "NaiveHybrid",
    "NextItem",
    "SSLModule",
    "Supervised",
    "load_method",
]
