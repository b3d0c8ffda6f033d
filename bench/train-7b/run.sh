#!/usr/bin/env bash
# bench/train-7b: the course's fine-tuning recipe at the seed's model size on this machine. Two runs of `finadvisor train`:
#   falcon  training-pipeline/configs/falcon-qlora.yaml as it is (QLoRA: NF4 base, LoRA r=64 on query_key_value, 1024 tokens, batch 1 x 4,
#           gradient checkpointing) on a random-weight Falcon-7B with the hub's layout (config.json as
#           tiiuae/falcon-7b-instruct has it, bf16 safetensors in two shards with an index);
#   llama   the same recipe on a Llama-2-7B-shaped checkpoint with LoRA r=16 (alpha 32) on every linear layer.
# Each trains STEPS optimizer steps on the course's 125 Q&A samples, packed into 1024-token blocks so that every micro-step
# is at the recipe's max_seq_length (the memory target's case), and evaluates once at the end. Printed per run: load time,
# peak RSS, seconds per micro-step and tokens/s, achieved GFLOP/s against the fp32 matmul rate measured before and after
# it, the checkpoint's size, and the projected wall time of the course's 8 epochs (112 training samples, an evaluation
# every 5 optimizer steps) on this machine and in core-hours. Then `export` merges the adapter into the bf16 base (time,
# peak RSS) and `generate` compares the merged checkpoint's greedy tokens with base + adapter unmerged.
#
# With BENCH_RESUME=1, the Falcon run is followed by kill -9 and --resume at 7B: two optimizer steps of one micro-step
# each (256-token blocks, to keep it short) run straight through, and again killed (kill -9) in step 2 once checkpoint-1
# is written, then resumed; the losses are printed side by side (the same code as the small-scale test, at the size
# where a checkpoint is only the adapter and its optimizer state).
#
# usage: bench/train-7b/run.sh [MODELS="falcon llama"] [STEPS=1]
#   BENCH_CACHE  where the checkpoints are written once (default ~/.cache/finadvisor-bench; 14 GB each, plus 14 GB
#                for a merged checkpoint while it is compared)
#   BENCH_RESUME 1: the kill -9 / --resume run after Falcon's
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
models="${1:-falcon llama}"
steps="${2:-1}"
cd "$root"
[[ -x /usr/bin/time ]] || { echo "bench/train-7b: needs GNU time (apt-get install time)" >&2; exit 2; }
if [[ ! -f app/target/finadvisor.jar ]]; then mvn -q -B -o -DskipTests package; fi
cache="${BENCH_CACHE:-$HOME/.cache/finadvisor-bench}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

checkpoint() { # preset -> folder, written once
  local dir="$cache/$1"
  if [[ ! -f "$dir/model.safetensors.index.json" ]]; then
    rm -rf "$dir"; ./finadvisor random-model --preset "$1" --out "$dir" >/dev/null 2>&1
  fi
  if [[ $1 == falcon7b ]]; then
    # tiiuae/falcon-7b-instruct's config.json, key for key (ffn size, context and tied embedding left to their defaults,
    # as there); only the bos/eos ids are those of the tokenizer written beside it (the hub's tokenizer has them at 11)
    cat > "$dir/config.json" <<'JSON'
{
  "alibi": false,
  "apply_residual_connection_post_layernorm": false,
  "architectures": ["FalconForCausalLM"],
  "attention_dropout": 0.0,
  "auto_map": {
    "AutoConfig": "configuration_falcon.FalconConfig",
    "AutoModel": "modeling_falcon.FalconModel",
    "AutoModelForCausalLM": "modeling_falcon.FalconForCausalLM",
    "AutoModelForQuestionAnswering": "modeling_falcon.FalconForQuestionAnswering",
    "AutoModelForSequenceClassification": "modeling_falcon.FalconForSequenceClassification",
    "AutoModelForTokenClassification": "modeling_falcon.FalconForTokenClassification"
  },
  "bias": false,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_dropout": 0.0,
  "hidden_size": 4544,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "model_type": "falcon",
  "multi_query": true,
  "new_decoder_architecture": false,
  "num_attention_heads": 71,
  "num_hidden_layers": 32,
  "parallel_attn": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.33.0.dev0",
  "use_cache": true,
  "vocab_size": 65024
}
JSON
  fi
  echo "$dir"
}

matmul() {
  ./finadvisor doctor --matmul-size 2048 2>/dev/null | sed -n 's/.*fp32 matmul 2048^3: \([0-9.]*\) GFLOP\/s.*/\1/p'
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for model in $models; do
  case $model in
    falcon) ckpt="$(checkpoint falcon7b)"; extra=() ;;
    llama)  ckpt="$(checkpoint llama7b)"; extra=(--set lora.r=16 --set lora.alpha=32 --set 'lora.target_modules=[all-linear]') ;;
    *) echo "bench/train-7b: unknown model '$model' (falcon, llama)" >&2; exit 2 ;;
  esac
  before="$(matmul)"
  runs="$out/$model-runs"
  recipe=(--config training-pipeline/configs/falcon-qlora.yaml --set model.id="$ckpt"
          --set data.train="$root/data/hands-on-llms/training_data.json" --set data.packing=true)
  /usr/bin/time -f "%M %e" -o "$out/$model.time" ./finadvisor train "${recipe[@]}" \
    --set training.max_steps="$steps" --set training.save_steps=1 --set output_dir="$runs" "${extra[@]}" \
    > "$out/$model.log" 2>&1 || { echo "$model: train failed:"; tail -5 "$out/$model.log"; continue; }
  after="$(matmul)"
  run="$(ls -d "$runs"/*/ | head -1)"
  python3 bench/train-7b/summary.py "$model" "$ckpt" "$run" "$out/$model.log" "$out/$model.time" "$before" "$after" "$(nproc)"

  merged="$cache/$model-merged"
  rm -rf "$merged"
  /usr/bin/time -f "%M %e" -o "$out/$model.export.time" ./finadvisor export --model "$ckpt" --adapter "$run/adapter" --out "$merged" \
    > "$out/$model.export.log" 2>&1 || { echo "$model: export failed:"; tail -3 "$out/$model.export.log"; continue; }
  read -r rss secs < "$out/$model.export.time"
  printf '  export: %.0f s, peak RSS %.2f GiB (%s)\n' "$secs" "$(echo "$rss / 1048576" | bc -l)" "$(tail -1 "$out/$model.export.log")"
  prompt="I am 35 with a moderate risk tolerance. Should I buy more index funds after the market fell today?"
  ./finadvisor generate --model "$merged" --weights bf16 --prompt "$prompt" --max-new-tokens 8 --json > "$out/merged.json" 2>/dev/null
  ./finadvisor generate --model "$ckpt" --adapter "$run/adapter" --weights bf16 --prompt "$prompt" --max-new-tokens 8 --json \
    > "$out/unmerged.json" 2>/dev/null
  python3 - "$out/merged.json" "$out/unmerged.json" <<'PY'
import json, sys
merged, unmerged = (json.load(open(f))["generated_ids"] for f in sys.argv[1:3])
same = "the same" if merged == unmerged else "DIFFERENT"
print(f"  greedy tokens, bf16 weights: merged {merged}, base + adapter unmerged {unmerged}: {same}")
PY
  rm -rf "$merged"

  if [[ $model == falcon && ${BENCH_RESUME:-0} == 1 ]]; then
    two=("${recipe[@]}" --set model.max_seq_length=256 --set data.validation_fraction=0 --set training.gradient_accumulation_steps=1
         --set training.max_steps=2 --set training.save_steps=1 --set training.logging_steps=1)
    ./finadvisor train "${two[@]}" --set output_dir="$out/straight" > "$out/straight.log" 2>&1
    ./finadvisor train "${two[@]}" --set output_dir="$out/killed" > "$out/killed.log" 2>&1 &
    trainer=$!
    until compgen -G "$out/killed/*/checkpoints/checkpoint-1" > /dev/null; do sleep 5; done
    sleep 20 # well into step 2
    kill -9 "$trainer"; wait "$trainer" 2>/dev/null || true
    ./finadvisor train --resume "$(ls -d "$out"/killed/*/ | head -1)" > "$out/resumed.log" 2>&1
    python3 - "$out"/straight/*/metrics.jsonl "$out"/killed/*/metrics.jsonl <<'PY'
import json, sys
straight, resumed = ({r["step"]: r["loss"] for r in map(json.loads, open(f)) if "loss" in r} for f in sys.argv[1:3])
print(f"  kill -9 in step 2 and --resume: step 1 loss {straight[1]!r} / {resumed[1]!r}, step 2 loss {straight[2]!r} (uninterrupted) / "
      f"{resumed[2]!r} (resumed): {'the same' if straight == resumed else 'DIFFERENT'}")
PY
  fi
done
