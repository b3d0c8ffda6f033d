#!/usr/bin/env bash
# bench/train-memory: peak resident memory and step time of `finadvisor train` on a 1.1B Llama (TinyLlama's shape,
# bf16 checkpoint, random weights), batch 1 x seq 256, LoRA r=16 on all linears, the course's Q&A samples:
# QLoRA and LoRA, each without and with gradient checkpointing (the same run otherwise: the losses must agree).
#
# usage: bench/train-memory/run.sh [STEPS=4]
#   BENCH_DIR    where the checkpoint is written once (default /tmp/finadvisor-bench; 2.2 GB)
#   BENCH_DATA   the Q&A samples (default data/hands-on-llms/training_data.json, the course's, committed)
#   BENCH_MODES  which runs, of: nf4 nf4-gc fp32 fp32-gc (default all four)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
steps="${1:-4}"
cd "$root"
[[ -x /usr/bin/time ]] || { echo "bench/train-memory: needs GNU time (apt-get install time)" >&2; exit 2; }
if [[ ! -f app/target/finadvisor.jar ]]; then mvn -q -B -o -DskipTests package; fi
dir="${BENCH_DIR:-/tmp/finadvisor-bench}"
ckpt="$dir/bench1b"
data="${BENCH_DATA:-$root/data/hands-on-llms/training_data.json}"
if [[ ! -f "$ckpt/model.safetensors" ]]; then ./finadvisor random-model --preset bench1b --out "$ckpt" >/dev/null 2>&1; fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-34s %12s %10s %12s %s\n' "run" "peak RSS" "s/step" "tokens/s" "loss at the last step"  # s/step, tokens/s: medians after the first step
for mode in ${BENCH_MODES:-nf4 nf4-gc fp32 fp32-gc}; do
  quant=none; [[ $mode == nf4* ]] && quant=nf4
  gc=false; [[ $mode == *-gc ]] && gc=true
  runs="$out/$mode"
  # fp32 weights live in Java direct memory: its limit must hold them (the launcher's default is a quarter of RAM)
  FINADVISOR_JAVA_OPTS="-XX:MaxDirectMemorySize=64g" /usr/bin/time -f "%M" -o "$out/$mode.rss" ./finadvisor train \
    --set model.id="$ckpt" --set model.template=falcon --set model.max_seq_length=256 \
    --set data.train="$data" --set data.validation_fraction=0 \
    --set lora.r=16 --set lora.alpha=32 --set lora.dropout=0.1 --set 'lora.target_modules=[all-linear]' \
    --set quantization=$quant --set training.gradient_checkpointing=$gc \
    --set training.per_device_train_batch_size=1 --set training.gradient_accumulation_steps=1 \
    --set training.max_steps="$steps" --set training.logging_steps=1 --set training.save_steps=1000 --set training.eval_steps=1000 \
    --set output_dir="$runs" > "$out/$mode.log" 2>&1 || { echo "$mode failed:" >&2; tail -5 "$out/$mode.log" >&2; continue; }
  /usr/bin/python3 - "$mode" "$(cat "$out/$mode.rss")" "$runs"/*/metrics.jsonl <<'PY'
import json, sys
mode, rss_kb, metrics = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [json.loads(l) for l in open(metrics) if l.strip()]
steps = [r for r in rows if "tokens_per_s" in r]
later = sorted(r["tokens_per_s"] for r in steps[1:]) or [steps[0]["tokens_per_s"]]  # the first step warms up
tps = later[len(later) // 2]
gaps = sorted(b["elapsed_s"] - a["elapsed_s"] for a, b in zip(steps[1:], steps[2:])) or [float("nan")]
step_s = gaps[len(gaps) // 2]
names = {"nf4": "QLoRA (NF4 base)", "nf4-gc": "QLoRA + gradient checkpointing", "fp32": "LoRA (fp32 base)",
         "fp32-gc": "LoRA + gradient checkpointing"}
print(f"{names[mode]:<34} {rss_kb / 2**20:9.2f} GiB {step_s:10.2f} {tps:12.1f} {steps[-1]['loss']:.6f}")
PY
done
