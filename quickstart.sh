#!/usr/bin/env bash
# The whole system on embedded defaults, offline, on a CPU: the three pipelines in order.
#   feature pipeline:   bundled news sample -> Flink (in-process) -> MiniLM embeddings -> Lucene index
#   training pipeline:  synthetic Q&A set + a random-weight tiny Llama -> LoRA fine-tune -> run + registry -> eval (base vs adapter)
#   inference pipeline: serve the base model + registered adapter over REST, ask one question
# No Alpaca account, no Hugging Face download: the base model has random weights, so the advice text is
# noise until you point model.id at a real checkpoint (see README: "Run a real model"); retrieval,
# sources, templates, tracking and serving are real.
# Usage: ./quickstart.sh [--serve] [WORK_DIR]   (default: ./quickstart; QUICKSTART_PORT picks the port, default 8765)
#   --serve  keep serving at the end (the web page and the API) until Ctrl-C
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fa="$here/finadvisor"
keep_serving=0
if [[ "${1:-}" == "--serve" ]]; then keep_serving=1; shift; fi
work="${1:-quickstart}"
port="${QUICKSTART_PORT:-8765}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
rm -rf "$work"/{news.jsonl,qa.jsonl,base-model,store,store.ingest,runs,registry,logs}
step() { printf '\n== %s\n' "$*"; }

step "1/6 news: the bundled sample of Alpaca-format articles"
"$fa" dataset news --out "$work/news.jsonl"

step "2/6 feature pipeline: ingest into the Lucene vector store (Flink in-process)"
"$fa" ingest --source jsonl --path "$work/news.jsonl" --store "$work/store"
"$fa" search --store "$work/store" -k 2 "How is demand for AI chips affecting Nvidia?"

step "3/6 training data: synthetic Q&A samples from the news, and a base model"
"$fa" dataset synth --n 64 --seed 7 --out "$work/qa.jsonl"
"$fa" random-model --preset llama --context 2048 --out "$work/base-model"
"$fa" dataset stats "$work/qa.jsonl" --tokenizer "$work/base-model" --max-seq-length 768

step "4/6 training pipeline: LoRA fine-tune (falcon template), tracked run, registry"
(cd "$work" && "$fa" train --set model.id="$work/base-model" --set data.train="$work/qa.jsonl" \
    --set lora.target_modules='[q_proj,k_proj,v_proj,o_proj]' --set lora.r=8 --set model.max_seq_length=768 \
    --set training.max_steps=16 --set training.eval_steps=8 --set training.save_steps=8 --set output_dir="$work/runs")
run="$(ls -1 "$work/runs" | grep -v '^\.' | tail -n 1)"
"$fa" runs show "$run" --runs-dir "$work/runs"
"$fa" registry push "$work/runs/$run" --name fin-advisor --alias production --registry "$work/registry"
# what fine-tuning changed: the base alone against base + adapter on the samples the run held out
"$fa" eval --model "$work/base-model" --adapter registry:fin-advisor@production --registry "$work/registry" \
    --data "$work/runs/$run/validation.jsonl" --compare --max-new-tokens 32 --out "$work/eval"

step "5/6 inference pipeline: serve base model + registry:fin-advisor@production on port $port"
# the bundled news is dated 2025: a retrieval window that reaches it (the default is the last 7 days)
serve=("$fa" serve --model "$work/base-model" --adapter registry:fin-advisor@production --registry "$work/registry"
       --store "$work/store" --port "$port" --set retrieval.since=3650d)
(cd "$work" && exec "${serve[@]}") > "$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/serve.log" >&2; exit 1; fi
  sleep 1
done

step "6/6 ask: POST /v1/advice"
curl -sS -X POST "http://127.0.0.1:$port/v1/advice" -H 'Content-Type: application/json' -d '{
  "about_me": "I am 35, moderate risk tolerance, saving for a house in five years.",
  "question": "Should I add Nvidia after the latest AI chip news?",
  "options": {"max_new_tokens": 32, "k": 3}}'
echo
printf '\nDone. Everything is under %s: store/ (vector index), runs/%s (metrics, report/, adapter/), eval/ (report.html),\n' "$work" "$run"
printf 'registry/, logs/prompts.jsonl (prompt log). The sample news is dated 2025, hence retrieval.since=3650d.\n'
printf '\nServe it again (from %s) and open http://127.0.0.1:%s/ for the web page:\n  %s\n' "$work" "$port" "${serve[*]}"
if (( keep_serving )); then
  printf '\nServing on http://127.0.0.1:%s/ (Ctrl-C stops)\n' "$port"
  wait "$server"
fi
