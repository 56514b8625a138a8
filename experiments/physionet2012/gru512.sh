#!/usr/bin/env bash
# experiments/physionet2012/gru512.yaml on the GPU machine, as one device call (issue #13).
# Here, once: prepare the data and fetch the pure-Python packages the machine lacks (.whl/ is
# ignored by .gitignore):
#   python data_prep/physionet2012.py data/physionet2012 ../shared/data/physionet2012/set-a.tar.gz \
#     ../shared/data/physionet2012/Outcomes-a.txt
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl \
#     jsonargparse==4.53.0 docstring_parser==0.18.0 typeshed_client==2.15.0 \
#     importlib_resources==7.1.0 scikit-dimension==0.5.0
# Device call: run(command="bash experiments/physionet2012/gru512.sh", timeout_s=600,
#                  carry=[".whl", "data/physionet2012"])
# It stops the comparison after BUDGET seconds (default 540) and packs what it wrote (no
# checkpoints) into $OUT/gru512.tar.gz; untar it in the repository root. Extra arguments go to
# `eventssl compare` (a CPU smoke run: BUDGET=300 OUT=/tmp bash … --output /tmp/gru512-smoke
# --overrides '[--trainer.max_epochs=1, --trainer.limit_train_batches=2, …]').
set -uo pipefail
BUDGET=${BUDGET:-540}
OUT=${OUT:-/tmp}
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
OUTPUT=$(python3 -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['output'])" \
  experiments/physionet2012/gru512.yaml)
for argument in "$@"; do  # an --output given here overrides the config's
  [ "${previous:-}" = --output ] && OUTPUT=$argument
  previous=$argument
done
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
timeout --signal=TERM --kill-after=30 "$BUDGET" \
  python3 -c "from eventssl.cli import console; console()" \
  compare --config experiments/physionet2012/gru512.yaml "$@" 2>&1 | tee "$OUT/gru512.log"
status=${PIPESTATUS[0]}
tar -czf "$OUT/gru512.tar.gz" --exclude="*.ckpt" --exclude="*.npz" "$OUTPUT"
echo "compare exited with $status; packed $OUTPUT into $OUT/gru512.tar.gz"
exit "$status"
