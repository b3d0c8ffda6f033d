#!/usr/bin/env bash
# The whole system on embedded defaults, offline, on a CPU: the three pipelines in order.
#   feature pipeline:   bundled news sample -> Flink (in-process) -> MiniLM embeddings -> Lucene index
#   training pipeline:  synthetic Q&A set + models/finadvisor-mini (our own small pretrained base) -> LoRA fine-tune
#                       -> run + registry -> eval: base vs adapter on the samples the run held out
#   inference pipeline: serve the base model + registered adapter over REST, ask one question
# No Alpaca account, no Hugging Face download. finadvisor-mini is a 5.5M-parameter demo model trained here on the
# project's own corpus (models/finadvisor-mini/README.md): its advice reads as advice, but it is a demo, not advice;
# point --base at a real checkpoint for that (README: "Run a real model").
# Usage: ./quickstart.sh [--serve] [--base MODEL] [WORK_DIR]   (default: ./quickstart; QUICKSTART_PORT picks the port, default 8765)
#   --serve  keep serving at the end (the web page and the API) until Ctrl-C
#   --base   the base model to fine-tune: a checkpoint folder or a Hugging Face hub id (default: models/finadvisor-mini)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fa="$here/finadvisor"
keep_serving=0
base="$here/models/finadvisor-mini"
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --serve) keep_serving=1; shift ;;
    --base)
      if (( $# < 2 )); then echo "quickstart.sh: --base needs a checkpoint folder or a hub id" >&2; exit 2; fi
      base="$2"; [[ -d $base ]] && base="$(cd "$base" && pwd)"; shift 2 ;;
    *) echo "quickstart.sh: unknown option $1 (usage: ./quickstart.sh [--serve] [--base MODEL] [WORK_DIR])" >&2; exit 2 ;;
  esac
done
work="${1:-quickstart}"
port="${QUICKSTART_PORT:-8765}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
rm -rf "$work"/{news.jsonl,qa.jsonl,store,store.ingest,runs,registry,logs,eval}
step() { printf '\n== %s\n' "$*"; }

step "1/6 news: the bundled sample of Alpaca-format articles"
"$fa" dataset news --out "$work/news.jsonl"

step "2/6 feature pipeline: ingest into the Lucene vector store (Flink in-process)"
"$fa" ingest --source jsonl --path "$work/news.jsonl" --store "$work/store"
"$fa" search --store "$work/store" -k 2 "How is demand for AI chips affecting Nvidia?"

step "3/6 training data: synthetic Q&A samples from the news (held out of finadvisor-mini's corpus)"
"$fa" dataset synth --n 64 --seed 7 --out "$work/qa.jsonl"
if [[ -d $base ]]; then "$fa" dataset stats "$work/qa.jsonl" --tokenizer "$base" --max-seq-length 512; else "$fa" dataset stats "$work/qa.jsonl"; fi

step "4/6 training pipeline: LoRA fine-tune of $base (falcon template), tracked run, registry"
# configs/quickstart.yaml: LoRA r=16 on every linear layer, 60 steps, the falcon template
(cd "$work" && "$fa" train --config "$here/configs/quickstart.yaml" --set model.id="$base" --set data.train="$work/qa.jsonl" \
    --set output_dir="$work/runs")
run="$(ls -1 "$work/runs" | grep -v '^\.' | tail -n 1)"
"$fa" runs show "$run" --runs-dir "$work/runs"
"$fa" registry push "$work/runs/$run" --name fin-advisor --alias production --registry "$work/registry"
# what fine-tuning changed: the base alone against base + adapter on the samples the run held out
"$fa" eval --model "$base" --adapter registry:fin-advisor@production --registry "$work/registry" \
    --data "$work/runs/$run/validation.jsonl" --compare --max-new-tokens 128 --out "$work/eval"

step "5/6 inference pipeline: serve base model + registry:fin-advisor@production on port $port"
# the bundled news is dated 2025: a retrieval window that reaches it (the default is the last 7 days)
serve=("$fa" serve --model "$base" --adapter registry:fin-advisor@production --registry "$work/registry" --runs-dir "$work/runs"
       --store "$work/store" --port "$port" --set retrieval.since=all)
(cd "$work" && exec "${serve[@]}") > "$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/serve.log" >&2; exit 1; fi
  sleep 1
done
if ! curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then
  echo "quickstart.sh: the server was not ready after 120 s; its log:" >&2; cat "$work/serve.log" >&2; exit 1
fi

step "6/6 ask: POST /v1/advice"
curl -sS -X POST "http://127.0.0.1:$port/v1/advice" -H 'Content-Type: application/json' -d '{
  "about_me": "I am 35, moderate risk tolerance, saving for a house in five years.",
  "question": "Should I add Nvidia after the latest AI chip news?",
  "options": {"max_new_tokens": 128, "k": 3, "temperature": 0}}'
echo
printf '\nDone. Everything is under %s: store/ (vector index), runs/%s (metrics, report/, adapter/), eval/ (report.html),\n' "$work" "$run"
printf 'registry/, logs/prompts.jsonl (prompt log). The sample news is dated 2025, hence retrieval.since=all.\n'
printf '\nServe it again (from %s) and open http://127.0.0.1:%s/ for the web pages (the advisor; /training, /news):\n  %s\n' "$work" "$port" "${serve[*]}"
if (( keep_serving )); then
  printf '\nServing on http://127.0.0.1:%s/ (Ctrl-C stops)\n' "$port"
  wait "$server"
fi
