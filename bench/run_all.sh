#!/usr/bin/env bash
# Re-run the speed benchmarks in one go, so a change that slows anything shows up:
#   bash bench/run_all.sh            # server (5,000 records), signals' speed, NLI cascade, few-shot quick check
#   FULL=1 bash bench/run_all.sh     # the sizes BENCHMARKS.md reports (50,000 records; all label-efficiency sets)
# Speed ratios come from bench/harness.py (interleaved repeats, median and spread, load recorded).
# Each script prints its table and writes JSON under bench/results/. Needs ../shared/datasets for the data sets.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
PY=.venv/bin/python
if [ "${FULL:-0}" = 1 ]; then
  $PY bench/bench_server.py --n 50000
  $PY bench/bench_signals.py
  $PY bench/bench_topk_recall.py
  $PY bench/bench_cascade.py --k 5,10,20 --texts 32
  $PY bench/bench_fewshot.py --methods logreg --seeds 0 1 2
  $PY bench/bench_label_efficiency.py --datasets ag_news,banking77,sms_spam,nlupp_banking --seeds 3
else
  $PY bench/bench_server.py --n 5000 --out bench/results/server_5k.json
  $PY bench/bench_signals.py --parts speed,nli --repeats 3 --out bench/results/signals_speed.json
  $PY bench/bench_cascade.py --texts 8 --out bench/results/cascade_quick.json
  $PY bench/bench_fewshot.py --quick --methods logreg --out bench/results/fewshot_quick.json
fi
