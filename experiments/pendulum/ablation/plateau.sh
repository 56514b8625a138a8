#!/usr/bin/env bash
# Runs experiments/pendulum/ablation/plateau.yaml on 2 CPU cores as two single-threaded streams
# (contrastive teachers then the un-normalised MLEM; generative then the L2 MLEM once every
# teacher exists), then writes the report with one full invocation. The naive-hybrid runs were
# added later, one single-threaded `--methods '[naive_hybrid]' --seeds '[s]'` call per seed
# (at the end of stream a here).
set -euo pipefail
export OMP_NUM_THREADS=1
CONFIG=experiments/pendulum/ablation/plateau.yaml
OUTPUT=experiments/pendulum/ablation/plateau
SEEDS=$(python -c "import yaml; print(' '.join(map(str, yaml.safe_load(open('$CONFIG'))['seeds'])))")
mkdir -p $OUTPUT
(
  eventssl compare --config $CONFIG --methods '[contrastive]'
  eventssl compare --config $CONFIG --methods '[mlem-raw-lambda10]'
  for seed in $SEEDS; do eventssl compare --config $CONFIG --methods '[naive_hybrid]' --seeds "[$seed]"; done
) > $OUTPUT/stream-a.log 2>&1 &
A=$!
(
  eventssl compare --config $CONFIG --methods '[generative]'
  for seed in $SEEDS; do
    until [ -f $OUTPUT/runs/pendulum/contrastive-seed$seed/evaluation.json ]; do sleep 30; done
  done
  eventssl compare --config $CONFIG --methods '[mlem-l2-lambda10]'
) > $OUTPUT/stream-b.log 2>&1 &
B=$!
wait $A
wait $B
eventssl compare --config $CONFIG
