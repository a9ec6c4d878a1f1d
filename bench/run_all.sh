#!/usr/bin/env bash
# Re-run the speed benchmarks in one go, so a change that slows anything shows up:
#   bash bench/run_all.sh            # server (5,000 records), signals' speed, few-shot quick check
#   FULL=1 bash bench/run_all.sh     # the sizes BENCHMARKS.md reports (50,000 records; all label-efficiency sets)
# Each script prints its table and writes JSON under bench/results/. Needs ../shared/datasets for the data sets.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
PY=.venv/bin/python
if [ "${FULL:-0}" = 1 ]; then
  $PY bench/bench_server.py --n 50000
  $PY bench/bench_signals.py
  $PY bench/bench_fewshot.py --methods logreg --seeds 0 1 2
  $PY bench/bench_label_efficiency.py --datasets ag_news,banking77,sms_spam,nlupp_banking --seeds 3
else
  $PY bench/bench_server.py --n 5000 --out bench/results/server_5k.json
  $PY bench/bench_signals.py --parts speed,nli --out bench/results/signals_speed.json
  $PY bench/bench_fewshot.py --quick --methods logreg --out bench/results/fewshot_quick.json
fi
