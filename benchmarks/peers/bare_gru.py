"""The compute bound (eventssl's venv): a bare `torch.nn.GRU` step on pre-padded tensors.

    python benchmarks/peers/bare_gru.py --system bare_gru_mlem --dataset pendulum ...

Each step draws its batch shape from the real data (eventssl's collator: 128 whole sequences, or
128 × K views for the CoLES shape), fills a (B, L, E) tensor with noise outside the timed region,
then times only GRU forward + the state at the last valid event + backward + Adam. E is the
width of eventssl's event embedding for the dataset, so the GRU is the same as in every system.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch
from settings import MIN_LENGTH
from torch import Tensor, nn
from trial_common import TrialArgs, autocast, cycle, device, parse_trial_args, run_throughput
from trials_eventssl import train_loader

from eventssl.data.dataset import EventDataset
from eventssl.nn.embedder import EventEmbedder

SYSTEMS = ("bare_gru_coles", "bare_gru_mlem")


def event_width(dataset: EventDataset, args: TrialArgs) -> int:
    """Width of eventssl's event embedding for this schema (the GRU's input size)."""
    schema = dataset.schema
    embedder = EventEmbedder(
        schema.categorical,
        {name: asdict(stats) for name, stats in schema.numerical.items()},
        args.sizes.field_dim,
        args.sizes.field_dim,
    )
    return embedder.output_size


def main() -> None:
    args = parse_trial_args(SYSTEMS)
    full = EventDataset.from_folder(args.folder / "contract", "train")
    train = full.subset(np.flatnonzero(full.lengths >= MIN_LENGTH))
    coles = args.system == "bare_gru_coles"
    width = event_width(train, args)
    gru = nn.GRU(width, args.sizes.hidden_size, batch_first=True).to(device(args.sizes))
    optimizer = torch.optim.Adam(gru.parameters(), lr=1e-3)
    views = args.dataset.num_views if coles else 1

    def padded(batches):  # shapes of real batches, filled with noise (untimed)
        for batch in batches:
            lengths = batch.lengths
            yield torch.randn(len(lengths), int(lengths.max()), width), lengths

    def step(batch: tuple[Tensor, Tensor]) -> None:
        inputs, lengths = (tensor.to(device(args.sizes)) for tensor in batch)
        with autocast(args.sizes):
            states, _ = gru(inputs)  # (B, L, H)
            index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, states.shape[-1])
            loss = states.gather(1, index).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def count(batch: tuple[Tensor, Tensor]) -> tuple[int, int]:
        return int(batch[1].sum()), len(batch[1]) // views

    batches = padded(cycle(train_loader(args, train, views=coles)))
    run_throughput(args, batches, step, count, time_loading=False)


if __name__ == "__main__":
    main()
