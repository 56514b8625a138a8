"""Lightning callbacks over `eventssl.evaluation`."""

from eventssl.callbacks.embedding_writer import EmbeddingWriter
from eventssl.callbacks.evaluation import Evaluation, read_results

__all__ = ["EmbeddingWriter", "Evaluation", "read_results"]
