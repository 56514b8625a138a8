#!/usr/bin/env bash
# Tests a guess of docs/results.md ("Pendulum at the paper's budget"): the generative embedding
# gets worse for a linear probe as training goes on, while its reconstruction loss still falls.
# Trains the generative run of experiments/pendulum/ablation/plateau again from its own
# config.yaml (seed 1 unless SEED is set; 70 epochs, the same data and settings, no early
# stopping) and scores the VALIDATION split's probes every 5 epochs, then prints, per scored
# epoch: val/loss, the embedding's L1 norm (val/loss_l1), linear and boosting MSE, anisotropy.
# About 25 min on one thread:  bash experiments/pendulum/ablation/generative_trajectory.sh
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SEED=${SEED:-1}
RUN=experiments/pendulum/ablation/plateau/runs/pendulum/generative-seed$SEED
OUT=${OUT:-experiments/pendulum/ablation/generative-trajectory}
EVERY=${EVERY:-5}
LOGGER='{"class_path": "lightning.pytorch.loggers.CSVLogger",
  "init_args": {"save_dir": "'$OUT'", "name": "runs", "version": "generative-seed'$SEED'"}}'
EVALUATION='{"class_path": "eventssl.callbacks.Evaluation",
  "init_args": {"split": "val", "every_n_epochs": '$EVERY'}}'
eventssl fit --config $RUN/config.yaml --trainer.logger="[$LOGGER]" \
  --trainer.callbacks="[$EVALUATION]" "$@"  # extra arguments: a smoke test's smaller budget
python - $OUT/runs/generative-seed$SEED/metrics.csv $RUN/metrics.csv <<'PY' | tee $OUT/seed$SEED.md
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
original = {r["epoch"]: r["val/loss"] for r in csv.DictReader(open(sys.argv[2])) if r["val/loss"]}
validation = {int(r["step"]): r for r in rows if r["val/loss"]}
scored = {}  # an evaluation logs at the global step, one past its validation's step
for row in rows:
    if row["probe/linear_mse"] and int(row["step"]) - 1 in validation:
        scored.setdefault(int(row["step"]) - 1, row)  # the first: the last is the fit's end
print("| epoch | val/loss | val/loss, committed run | val/loss_l1 | linear MSE | boosting MSE | anisotropy |")
print("|---|---|---|---|---|---|---|")
for step, probe in sorted(scored.items()):
    row = validation[step]
    print(f"| {int(row['epoch']) + 1} | {float(row['val/loss']):.3f} "
          f"| {float(original[row['epoch']]):.3f} | {float(row['val/loss_l1']):.1f} "
          f"| {float(probe['probe/linear_mse']):.3f} | {float(probe['probe/boosting_mse']):.3f} "
          f"| {float(probe['geometry/anisotropy']):.2f} |")
PY
