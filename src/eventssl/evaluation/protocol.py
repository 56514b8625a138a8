"""The evaluation protocol on frozen embeddings: probes, geometry, robustness, next event (§5)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from eventssl.data.augmentations import Augmentation, Drop, shuffle_events
from eventssl.data.datamodule import EventDataModule
from eventssl.data.dataset import EventDataset
from eventssl.evaluation.embeddings import embed_by_length, embed_loader
from eventssl.evaluation.geometry import geometry
from eventssl.evaluation.loaders import evaluation_loader, probe_datasets, probe_sources
from eventssl.evaluation.next_event import next_event_rows, next_event_targets
from eventssl.evaluation.next_item_probe import fit_next_item_probe, probe_scores
from eventssl.evaluation.probes import ProbeSpec, fit_probes, metric
from eventssl.evaluation.recommendation import recommend
from eventssl.methods.base import SSLModule


@dataclass
class EvaluationSettings:
    """What to evaluate.

    Args:
        target: target column (default: the schema's default target).
        probes: estimators by name (see `eventssl.evaluation.probes`); None = defaults.
        geometry: anisotropy and intrinsic dimension of the test + train embeddings.
        robustness: refit the probes on event-dropped and shuffled train/test sequences.
        drop_probabilities: the dropout levels of the robustness check.
        next_events: k > 0 hides the last k events and probes their Δt (and type).
        next_event_type: categorical field probed as the event type (default: the first).
        seed: seed of the perturbations and subsamples.
        split: "test" scores the probes on the test split (fitted on train + val); "val"
            scores them on the validation split (fitted on train alone), for choosing settings
            without looking at test.
    """

    target: str | None = None
    probes: Mapping[str, ProbeSpec] | None = None
    geometry: bool = True
    robustness: bool = False
    drop_probabilities: Sequence[float] = (0.1, 0.3, 0.5, 0.7)
    next_events: int = 0
    next_event_type: str | None = None
    seed: int = 0
    split: str = "test"


def evaluate(
    module: SSLModule,
    datamodule: EventDataModule,
    settings: EvaluationSettings | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, float]:
    """Flat results: `probe/…`, `geometry/…`, `robustness/<perturbation>/…`, `next_event/…`."""
    settings = settings or EvaluationSettings()
    schema = datamodule.schema
    target = settings.target or schema.default_target
    datasets = probe_datasets(datamodule, target, settings.split)
    results: dict[str, float] = {}
    if set(datasets) == {"train", "test"}:
        spec = schema.targets[target]
        perturbations: dict[str, list[Augmentation]] = {"probe": []}
        if settings.robustness:
            for probability in settings.drop_probabilities:
                perturbations[f"robustness/drop_{probability:g}"] = [Drop(probability)]
            perturbations["robustness/shuffle"] = [shuffle_events()]
        for number, (prefix, augmentations) in enumerate(perturbations.items(), start=1):
            progress(f"evaluating {prefix} ({number}/{len(perturbations)})")
            torch.manual_seed(settings.seed)
            embedded = {}
            for split, dataset in datasets.items():
                started = time.perf_counter()
                if augmentations:  # perturbed batches keep their composition (same draws)
                    loader = evaluation_loader(datamodule, dataset, augmentations)
                    embedded[split] = embed_loader(module, loader, target)
                else:
                    embedded[split] = embed_by_length(module, datamodule, dataset, target)
                rate = len(dataset) / max(time.perf_counter() - started, 1e-9)
                progress(f"  embedded {len(dataset):,} {split} sequences ({rate:,.0f}/s)")
            probes = fit_probes(
                spec, embedded["train"], embedded["test"], settings.probes, progress
            )
            results |= {f"{prefix}/{name}": value for name, value in probes.items()}
            if settings.geometry:
                stacked = np.concatenate([embedded["test"][0], embedded["train"][0]])
                base = "geometry" if prefix == "probe" else prefix
                progress(f"  geometry of {len(stacked):,} embeddings")
                shape = geometry(stacked, seed=settings.seed)
                results |= {f"{base}/{name}": value for name, value in shape.items()}
    predict = getattr(module, "predict_target", None)
    if callable(predict) and "test" in datasets:
        results |= _own_predictions(module, datamodule, datasets["test"], target)
    if datamodule.schema.next_item is not None:
        results |= _recommendation_results(module, datamodule, settings, progress)
    if settings.next_events > 0:
        progress("evaluating next events")
        results |= _next_event_results(module, datamodule, settings)
    return results


def _recommendation_results(
    module: SSLModule,
    datamodule: EventDataModule,
    settings: EvaluationSettings,
    progress: Callable[[str], None],
) -> dict[str, float]:
    """A next-item method's own scores (`recommendation/…`), else a linear next-item probe
    over its frozen states (`next_item_probe/…`)."""
    if callable(getattr(module, "predict_next", None)):
        progress(f"evaluating next-item recommendation on the {settings.split} split")
        return recommend(module, datamodule, settings.split)
    progress("fitting a next-item probe on the frozen train prefixes")
    probe = fit_next_item_probe(module, datamodule, seed=settings.seed)
    predict = probe_scores(module, probe)
    return recommend(module, datamodule, settings.split, predict, prefix="next_item_probe")


def _own_predictions(
    module: SSLModule, datamodule: EventDataModule, test: EventDataset, target: str
) -> dict[str, float]:
    """A supervised model's own head on the test split: `supervised/<metric>`."""
    loader = evaluation_loader(datamodule, test)
    outputs, truth = embed_loader(module, loader, target, output=module.predict_target)
    spec = datamodule.schema.targets[target]
    if spec.task != "regression":
        truth = truth.astype(np.int64)
    return {f"supervised/{spec.metric}": metric(spec, truth, outputs.astype(np.float64))}


def _next_event_results(
    module: SSLModule, datamodule: EventDataModule, settings: EvaluationSettings
) -> dict[str, float]:
    count = settings.next_events
    type_field = settings.next_event_type or next(iter(datamodule.schema.categorical), None)
    datamodule.setup(None)
    embedded, targets = {}, {}
    for split, source in probe_sources(datamodule, settings.split):
        dataset = datamodule.datasets[source]
        dataset = dataset.subset(next_event_rows(dataset, count))
        loader = evaluation_loader(datamodule, dataset, cut_last=count)
        embedded[split] = embed_loader(module, loader)[0]
        targets[split] = next_event_targets(dataset, count, type_field)
    results = {}
    for name, (spec, train_truth) in targets["train"].items():
        test_truth = targets["test"][name][1]
        probes = fit_probes(
            spec, (embedded["train"], train_truth), (embedded["test"], test_truth), settings.probes
        )
        results |= {f"next_event/{name}/{probe}": value for probe, value in probes.items()}
    return results
