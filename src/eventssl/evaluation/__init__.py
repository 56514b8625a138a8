"""Evaluation of frozen embeddings: pure functions, no Lightning state."""

from eventssl.evaluation.embeddings import embed_loader
from eventssl.evaluation.probes import fit_probes
from eventssl.evaluation.ranking import ranking_metrics, recommendation_results

__all__ = ["embed_loader", "fit_probes", "ranking_metrics", "recommendation_results"]
