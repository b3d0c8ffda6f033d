#!/usr/bin/env bash
# bench/pretrain: reproduces models/finadvisor-mini, the small base model the quickstart fine-tunes.
#   1. the quickstart's Q&A set (dataset synth --n 64 --seed 7): held out of the corpus, since the quickstart evaluates on it
#   2. the corpus: bundled news, 3,000 written articles, 30,000 synthetic Q&A and the course's 125 samples (dataset corpus)
#   3. a 4,096-token byte-level BPE learned on it (tokenizer train), its end-of-sequence token spelt <|endoftext|>, the falcon
#      template's end marker: the model ends documents with it, so a fine-tune in that template ends its answers with it
#   4. pretrain with configs/pretrain-mini.yaml (about half an hour on 2 cores)
#   5. the model and its tokenizer into OUT (default: models/finadvisor-mini), with the run's numbers in OUT/training.json
# usage: bench/pretrain/run.sh [WORK_DIR=~/.cache/finadvisor-bench/pretrain-mini] [OUT=models/finadvisor-mini] [--set KEY=VALUE ...]
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
fa="$here/finadvisor"
work="$HOME/.cache/finadvisor-bench/pretrain-mini"
out="$here/models/finadvisor-mini"
if [[ $# -gt 0 && $1 != --* ]]; then work="$1"; shift; fi
if [[ $# -gt 0 && $1 != --* ]]; then out="$1"; shift; fi
mkdir -p "$work"
work="$(cd "$work" && pwd)"

"$fa" dataset synth --n 64 --seed 7 --out "$work/quickstart-qa.jsonl" --force
"$fa" dataset corpus --synth 30000 --written-news 3000 --seed 42 --qa "$here/data/hands-on-llms/training_data.json" \
    --held-out "$work/quickstart-qa.jsonl" --out "$work/corpus.jsonl" --force
rm -rf "$work/tokenizer"
"$fa" tokenizer train --corpus "$work/corpus.jsonl" --vocab-size 4096 --max-length 512 --eos "<|endoftext|>" --out "$work/tokenizer"
start=$(date +%s)
(cd "$work" && "$fa" pretrain --config "$here/configs/pretrain-mini.yaml" --set model.tokenizer="$work/tokenizer" \
    --set data.corpus="[$work/corpus.jsonl]" --set output_dir="$work/runs" "$@")
run="$(ls -1 "$work/runs" | grep -v '^\.' | tail -n 1)"
mkdir -p "$out"
rm -f "$out"/*.safetensors "$out"/*.json    # the model card, README.md, stays
cp "$work/runs/$run/model/"* "$out/"
printf '{"run": "%s", "wall_seconds": %d, "metrics": %s}\n' "$run" $(( $(date +%s) - start )) \
    "$(cat "$work/runs/$run/metrics.jsonl" | tail -n 1)" > "$out/training.json"
echo "model in $out (run $work/runs/$run); its numbers for the model card ($out/README.md) are in $out/training.json"
