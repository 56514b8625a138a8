"""Network parts: event embedder, encoders (GRU, Transformer), transformer decoder, heads."""

from eventssl.nn.decoder import EventDecoder, Reconstruction
from eventssl.nn.embedder import EventEmbedder
from eventssl.nn.encoder import GRUEncoder, freeze
from eventssl.nn.heads import projector
from eventssl.nn.sequence_encoder import SequenceEncoder
from eventssl.nn.transformer_encoder import TransformerEncoder

__all__ = [
    "EventDecoder",
    "EventEmbedder",
    "GRUEncoder",
    "Reconstruction",
    "SequenceEncoder",
    "TransformerEncoder",
    "freeze",
    "projector",
]
