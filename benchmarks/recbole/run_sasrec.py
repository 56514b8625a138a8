"""RecBole 1.2.1 SASRec on eventssl's exported split (RecBole's venv, `setup_env.py`).

    cd benchmarks/recbole && .venv/bin/python run_sasrec.py --seed 0
    cd benchmarks/recbole && .venv/bin/python run_sasrec.py --mode throughput --epochs 2

`--mode quality` (default): checks that RecBole's leave-one-out of `export.py`'s file gives
eventssl's train, val and test examples user by user (a ValueError otherwise), trains SASRec at
MCLRec's code settings (`SETTINGS`) with early stopping on validation NDCG@10, keeps the best
epoch's weights in memory, scores every item for every test user (`predictions.npz`, columns =
eventssl item codes, for `report.py` to rank with eventssl's metric code) and writes
`result.json`: RecBole's own test metrics, per-epoch training seconds and examples.
`--mode throughput`: `--epochs` epochs of training only (no validation), timed per epoch.

The best weights stay in memory (`fit(saved=False)` plus a per-epoch callback), so RecBole's
checkpoint reload, which torch >= 2.6 refuses by default (`torch.load(weights_only=True)`), is
never used. Training time is RecBole's `_train_epoch` (its loader, forward, backward, Adam),
wrapped here with a timer; validation is not in it. RecBole's log and tensorboard folders go
to the run folder (the working directory during the run).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.model.sequential_recommender import SASRec
from recbole.trainer import Trainer
from recbole.utils import init_logger, init_seed
from split_protocol import (
    DATASET,
    ITEM_FIELD,
    MAX_LENGTH,
    TIME_FIELD,
    USER_FIELD,
    UserSplit,
    check_split,
    code_columns,
    expected_split,
    to_code_scores,
)

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
KS = (5, 10, 20)
SETTINGS: dict[str, Any] = {  # MCLRec's code (SASRec backbone) on MovieLens-100k
    "n_layers": 2, "n_heads": 2, "hidden_size": 64, "inner_size": 256,
    "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5, "hidden_act": "gelu",
    "layer_norm_eps": 1e-12, "initializer_range": 0.02, "loss_type": "CE",
    "MAX_ITEM_LIST_LENGTH": MAX_LENGTH, "train_batch_size": 256, "learning_rate": 1e-3,
    "stopping_step": 10, "valid_metric": "NDCG@10", "train_neg_sample_args": None,
    "metrics": ["Hit", "NDCG"], "topk": list(KS), "metric_decimal_place": 6,
    "eval_args": {"split": {"LS": "valid_and_test"}, "group_by": "user", "order": "TO",
                  "mode": "full"},
    "load_col": {"inter": [USER_FIELD, ITEM_FIELD, TIME_FIELD]},
    "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)",
    "reproducibility": True, "use_gpu": False, "worker": 0, "show_progress": False,
    "log_wandb": False, "eval_batch_size": 4096,
}  # fmt: skip


def build(data_path: Path, epochs: int, seed: int) -> tuple[Config, Any, Any, Any, SASRec]:
    """RecBole's config, loaders (train, valid, test) and SASRec, seeded as RecBole's own
    runner does (once before the data, once before the model)."""
    options = SETTINGS | {
        "data_path": str(data_path),
        "checkpoint_dir": "saved",
        "epochs": epochs,
        "seed": seed,
    }
    config = Config(model="SASRec", dataset=DATASET, config_dict=options)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train, valid, test = data_preparation(config, dataset)
    init_seed(config["seed"], config["reproducibility"])
    model = SASRec(config, train._dataset).to(config["device"])
    return config, train, valid, test, model


def recbole_split(
    config: Config, loaders: tuple[Any, Any, Any], columns: np.ndarray
) -> dict[str, UserSplit]:
    """RecBole's train/valid/test examples per user token, as eventssl item codes."""
    list_field = ITEM_FIELD + config["LIST_SUFFIX"]
    length_field = config["ITEM_LIST_LENGTH_FIELD"]
    parts: list[dict[str, list[tuple[float, int, tuple[int, ...]]]]] = []
    for loader in loaders:
        dataset = loader._dataset
        feat = dataset.inter_feat
        users = dataset.field2id_token[USER_FIELD][feat[USER_FIELD].numpy()]
        targets = columns[feat[ITEM_FIELD].numpy()]
        prefixes = columns[feat[list_field].numpy()]  # (R, MAX_LENGTH)
        lengths, times = feat[length_field].numpy(), feat[TIME_FIELD].numpy()
        rows: dict[str, list[tuple[float, int, tuple[int, ...]]]] = {}
        for user, time_, target, prefix, length in zip(
            users, times, targets, prefixes, lengths, strict=True
        ):
            rows.setdefault(str(user), []).append(
                (float(time_), int(target), tuple(prefix[:length].tolist()))
            )
        parts.append(rows)
    train, valid, test = parts
    split = {}
    for user in test:
        if len(valid.get(user, [])) != 1 or len(test[user]) != 1:
            raise ValueError(f"user {user}: RecBole holds out not exactly one val and test event")
        (_, val_target, val_prefix), (_, test_target, test_prefix) = valid[user][0], test[user][0]
        split[user] = UserSplit(
            train_targets=tuple(target for _, target, _ in sorted(train.get(user, []))),
            val_target=val_target,
            val_prefix=val_prefix,
            test_target=test_target,
            test_prefix=test_prefix,
        )
    return split


def timed_epochs(trainer: Trainer) -> list[float]:
    """Wrap this trainer's `_train_epoch` with a wall-clock timer; the list fills per epoch."""
    seconds: list[float] = []
    train_epoch = trainer._train_epoch

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = train_epoch(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
        return result

    trainer._train_epoch = timed
    return seconds


@torch.no_grad()
def test_scores(model: SASRec, test: Any, device: torch.device) -> tuple[list[str], Any, Any]:
    """(user tokens, (U, C) scores over RecBole's item columns, (U,) true item columns)."""
    model.eval()
    users, scores, targets = [], [], []
    tokens = test._dataset.field2id_token[USER_FIELD]
    for interaction, _, _, positive_items in test:
        interaction = interaction.to(device)
        scores.append(model.full_sort_predict(interaction).cpu())  # (B, C)
        targets.append(positive_items.cpu())
        users += [str(token) for token in tokens[interaction[USER_FIELD].cpu().numpy()]]
    return users, torch.cat(scores).numpy(), torch.cat(targets).numpy()


def run_folder(args: argparse.Namespace) -> Path:
    """`--out`, else `<cache>/runs/sasrec-<mode>-seed<seed>`."""
    return args.out or args.cache / "runs" / f"sasrec-{args.mode}-seed{args.seed}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_path = args.cache / "data"
    splits_file = data_path / DATASET / "splits.json"
    if not splits_file.is_file():
        raise FileNotFoundError(f"{splits_file}: run benchmarks/recbole/export.py first")
    exported = json.loads(splits_file.read_text())
    out = run_folder(args)
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(out)  # RecBole writes log/, log_tensorboard/ and saved/ under the working folder
    config, train, valid, test, model = build(data_path.resolve(), args.epochs, args.seed)
    columns = code_columns(list(train._dataset.field2id_token[ITEM_FIELD]), exported["num_codes"])
    started = time.perf_counter()
    check_split(
        expected_split(exported["splits"], config["MAX_ITEM_LIST_LENGTH"]),
        recbole_split(config, (train, valid, test), columns),
    )
    print(f"[sasrec] RecBole's split equals eventssl's ({time.perf_counter() - started:.1f} s)")
    trainer = Trainer(config, model)
    seconds = timed_epochs(trainer)
    result: dict[str, Any] = {
        "system": "recbole_sasrec",
        "mode": args.mode,
        "seed": args.seed,
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "examples_per_epoch": len(train._dataset),
        "batches_per_epoch": len(train),
        "epoch_seconds": seconds,
    }
    if args.mode == "throughput":
        trainer.fit(train, None, saved=False)
        return result
    best: dict[str, Any] = {}

    def keep_best(epoch: int, score: float) -> None:
        if trainer.cur_step == 0:  # RecBole's early stopping just took this epoch as best
            best.update(epoch=epoch, state=copy.deepcopy(model.state_dict()))

    trainer.fit(train, valid, saved=False, callback_fn=keep_best)
    model.load_state_dict(best["state"])
    reported = trainer.evaluate(test, load_best_model=False)
    users, scores, targets = test_scores(model, test, config["device"])
    np.savez_compressed(
        out / "predictions.npz",
        users=np.array(users),
        scores=to_code_scores(scores, columns, exported["num_codes"]),  # (U, N) eventssl codes
        targets=columns[targets],  # (U,)
    )
    return result | {
        "best_epoch": best["epoch"],
        "epochs_run": len(seconds),
        "best_valid": {k: float(v) for k, v in trainer.best_valid_result.items()},
        "recbole_test": {k: float(v) for k, v in reported.items()},
        "predictions": str(out / "predictions.npz"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["quality", "throughput"], default="quality")
    parser.add_argument("--epochs", type=int, default=50, help="at most (early stopping)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, help="run folder (default: <cache>/runs/...)")
    args = parser.parse_args(argv)
    sys.argv[1:] = []  # RecBole's Config also reads `--key=value` options from sys.argv
    args.cache = args.cache.resolve()
    args.out = args.out.resolve() if args.out else None
    result = run(args)
    (run_folder(args) / "result.json").write_text(json.dumps(result, indent=1))
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
