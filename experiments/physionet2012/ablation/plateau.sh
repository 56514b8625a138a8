#!/usr/bin/env bash
# Runs experiments/physionet2012/ablation/plateau.yaml on 2 CPU cores as two single-threaded
# streams, one seed per `eventssl compare` call so that each MLEM run starts as soon as its own
# teacher is trained, then writes the report with one full invocation. Run it again after an
# interruption: finished runs are read, an unfinished one resumes from its last checkpoint.
# The naive-hybrid runs (an epoch costs about 4x the others') were trained later with the same
# `one naive_hybrid <seed>` commands, as three streams of their own, one per seed.
set -euo pipefail
export OMP_NUM_THREADS=1
CONFIG=experiments/physionet2012/ablation/plateau.yaml
OUTPUT=experiments/physionet2012/ablation/plateau
RUNS=$OUTPUT/runs/physionet2012
mkdir -p $OUTPUT
one() { eventssl compare --config $CONFIG --methods "[$1]" --seeds "[$2]"; }
teacher() { until [ -f $RUNS/contrastive-seed$1/evaluation.json ]; do sleep 30; done; }
(
  one contrastive 0; one mlem-l2-lambda10 0
  one contrastive 2; one mlem-l2-lambda10 2
  one naive_hybrid 0; one naive_hybrid 2
) >> $OUTPUT/stream-a.log 2>&1 &
A=$!
(
  one generative 0; one contrastive 1
  teacher 1; one mlem-l2-lambda10 1
  one generative 1; one generative 2
  one naive_hybrid 1
) >> $OUTPUT/stream-b.log 2>&1 &
B=$!
wait $A
wait $B
eventssl compare --config $CONFIG
