"""Network parts: event embedder, GRU encoder, transformer decoder, heads."""

from eventssl.nn.decoder import EventDecoder, Reconstruction
from eventssl.nn.embedder import EventEmbedder
from eventssl.nn.encoder import GRUEncoder, freeze
from eventssl.nn.heads import projector

__all__ = ["EventDecoder", "EventEmbedder", "GRUEncoder", "Reconstruction", "freeze", "projector"]
