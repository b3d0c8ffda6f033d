#!/usr/bin/env bash
# bench/train-lora: LoRA and QLoRA training speed of a ~110M Llama (seq 256, r=16 on all linears)
# against the engine's fp32 matmul rate and a PyTorch eager reference of the same step, same run.
# Phases in one JVM: LoRA, QLoRA (NF4 base, LayerwiseBackward), [QLoRA whole-graph], LoRA again (A-B-A against load drift),
# then the LoRA step's matrix products alone: the share of the matmul rate this engine leaves a step on this machine;
# and loading alone, fp32 against NF4 (each projection quantised as it is read), in fresh JVMs.
#
# usage: bench/train-lora/run.sh [STEPS=8]
#   BENCH_BATCH        sequences of 256 tokens per step, both sides (default 1; 4 = 1024 tokens per step)
#   BENCH_DIR          where the random checkpoint is written once (default /tmp/finadvisor-bench)
#   BENCH_QLORA_WHOLE  1: also QLoRA with one backward through the whole graph (every layer's fp32 weight kept)
#   BENCH_DROPOUT      P: also LoRA with dropout P on the LoRA inputs (`train`'s default is 0.1), masks drawn in
#                      Java (as `train` draws them on a CPU) against libtorch's dropout (-Dfinadvisor.dropout=engine)
#   BENCH_ANSWER_ROWS  1: also LoRA with the loss on half of each sequence (answer tokens), the output head at
#                      the answer rows only (as `train` runs it) against at every row
#   BENCH_LORA_COST    1: also LoRA on q_proj only: what the other six module types' LoRA layers cost a step
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/train-lora"
steps="${1:-8}"
cd "$root"
malloc_conf="$(tail -n 1 native/jemalloc.conf)"  # jemalloc as the launcher runs it
if [[ ! -f app/target/finadvisor.jar ]]; then mvn -q -B -o -DskipTests package; fi
cp="app/target/finadvisor.jar:app/target/lib/*"
ckpt="${BENCH_DIR:-/tmp/finadvisor-bench}/bench100m"
if [[ ! -f "$ckpt/model.safetensors" ]]; then
  java -cp "$cp" dev.finadvisor.llm.RandomCheckpoint bench100m "$ckpt" >/dev/null
fi
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
preload=""; [[ -f "$jemalloc" ]] && preload="$jemalloc"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every figure)" >&2

# finadvisor runs as the launcher runs it, MKL vendor shim included on AMD CPUs (native/mkl-amd.c)
shim="$("$root/native/mkl-amd.sh" || true)"
java_preload="${shim:+$shim${preload:+:}}$preload"
java_json="$(LD_PRELOAD="$java_preload" MALLOC_CONF="$malloc_conf" DJL_OFFLINE=true OPT_OUT_TRACKING=true \
  java -Dai.djl.offline=true -cp "$cp" dev.finadvisor.training.bench.TrainLoraBench "$ckpt" "$steps" 2>/dev/null | tail -1)"
# loading alone, in fresh JVMs with the same heap limit (Java garbage would otherwise blur the comparison): fp32, then NF4
load_json=()
for mode in fp32 nf4; do
  load_json+=("$(LD_PRELOAD="$java_preload" MALLOC_CONF="$malloc_conf" DJL_OFFLINE=true OPT_OUT_TRACKING=true \
    java -Xmx512m -Dai.djl.offline=true -cp "$cp" dev.finadvisor.training.bench.LoadRss "$ckpt" "$mode" 2>/dev/null | tail -1)")
done
echo "$java_json" > "${BENCH_DIR:-/tmp/finadvisor-bench}/train-lora-java.json"  # kept in case the summary below fails
# Both sides run as the launcher runs finadvisor: jemalloc that never returns pages; the reference also gets OpenBLAS-openmp.
ref_json="$(LD_PRELOAD="$preload" MALLOC_CONF="$malloc_conf" /usr/bin/python3 "$here/reference.py" "$ckpt" "$steps")"

/usr/bin/python3 - "$java_json" "$ref_json" "${load_json[@]}" <<'PY'
import json, sys
j, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
load32, load4 = json.loads(sys.argv[3]), json.loads(sys.argv[4])
lora, qlora, after = j["lora"], j["qlora"], j["lora_after"]
base = (lora['step_s_median'] + after['step_s_median']) / 2  # LoRA before and after the QLoRA phases (A-B-A)
assert j["batch"] == r["batch"], (j["batch"], r["batch"])
print(f"model: {lora['parameters']/1e6:.1f}M parameters, LoRA r=16 on all linears: {lora['trainable']/1e6:.2f}M trainable; batch {j['batch']} x seq 256")
print(f"engine fp32 matmul (2048^3, this run):     {j['matmul_gflops']:7.1f} GFLOP/s ({j['threads']} threads)")
print(f"LoRA  step {lora['step_s_median']:.3f} s  {lora['tokens_per_s']:7.1f} tok/s  {lora['gflops']:6.1f} GFLOP/s (4*N*tokens) = {lora['gflops']/j['matmul_gflops']:.2f} of matmul; "
      f"{lora['gflops']/lora['matmul_gflops']:.2f} of the {lora['matmul_gflops']:.1f} GFLOP/s measured around the phase")
print(f"LoRA  step again after the QLoRA phases: {after['step_s_median']:.3f} s  (mean of the two: {base:.3f} s) = "
      f"{after['gflops']/after['matmul_gflops']:.2f} of the {after['matmul_gflops']:.1f} GFLOP/s measured around it")
products = j["products_only"]
print(f"the step's matrix products alone (no elementwise op, optimizer or autograd: StepProducts): {products['step_s_median']:.3f} s = "
      f"{products['gflops']/products['matmul_gflops']:.2f} of the {products['matmul_gflops']:.1f} GFLOP/s measured around it (the most a step could reach here)")
base_products = j["base_products_only"]
print(f"  without LoRA's products (the frozen base's and attention's alone): {base_products['step_s_median']:.3f} s = "
      f"{base_products['gflops']/base_products['matmul_gflops']:.2f} of the {base_products['matmul_gflops']:.1f} GFLOP/s measured around it")
print(f"QLoRA step {qlora['step_s_median']:.3f} s  {qlora['tokens_per_s']:7.1f} tok/s  = {qlora['step_s_median']/base:.2f}x the mean LoRA step "
      f"({qlora['step_s_median']/lora['step_s_median']:.2f}x the one before, {qlora['step_s_median']/after['step_s_median']:.2f}x the one after); "
      f"base {qlora['nf4_bytes_per_param']:.3f} bytes/param in NF4")
print(f"  fp32 dequantised weights alive at a step's peak: {qlora['dequantised_peak_bytes']/2**20:.1f} MiB (one decoder layer; LayerwiseBackward)")
print(f"  peak RSS during the steps: LoRA {lora['rss_peak_mb']} MiB, QLoRA {qlora['rss_peak_mb']} MiB")
print(f"  loading alone (fresh JVM, -Xmx512m): peak RSS fp32 {load32['rss_peak_mb']} MiB, NF4 with each projection quantised as it is read "
      f"{load4['rss_peak_mb']} MiB (before loading: {load32['rss_before_mb']} / {load4['rss_before_mb']} MiB; the projections' fp32 weights: "
      f"{load4['nf4_parameters'] * 4 / 2**20:.0f} MiB)")
if "lora_half_answer_rows" in j:
    a, h = j["lora_half_answer_all_rows"], j["lora_half_answer_rows"]
    print(f"LoRA, loss on the second half of each sequence: output head at every row {a['step_s_median']:.3f} s, "
          f"at the answer rows only {h['step_s_median']:.3f} s = {h['step_s_median']/a['step_s_median']:.2f}x")
if "lora_dropout" in j:
    d, e = j["lora_dropout"], j["lora_dropout_engine"]
    print(f"LoRA with dropout {d['dropout']} on the LoRA inputs: masks drawn in Java {d['step_s_median']:.3f} s/step, by libtorch "
          f"{e['step_s_median']:.3f} s = {d['step_s_median']/e['step_s_median']:.2f}x (no dropout: {base:.3f} s)")
if "lora_q_proj_only" in j:
    q = j["lora_q_proj_only"]
    print(f"LoRA on q_proj only (the same backward through every layer): {q['step_s_median']:.3f} s/step; the LoRA layers "
          f"on the six other module types cost {base - q['step_s_median']:.3f} s of the mean LoRA step ({(base - q['step_s_median']) / base:.0%})")
if "qlora_whole" in j:
    w = j["qlora_whole"]
    print(f"QLoRA, one backward through the whole graph: step {w['step_s_median']:.3f} s = {w['step_s_median']/base:.2f}x the mean LoRA step; "
          f"{w['dequantised_peak_bytes']/2**20:.1f} MiB of fp32 dequantised weights alive at the peak; peak RSS {w['rss_peak_mb']} MiB")
print(f"PyTorch {r['torch']} eager reference (OpenBLAS-openmp, matmul {r['matmul_gflops']:.1f} GFLOP/s): step {r['step_s_median']:.3f} s  {r['tokens_per_s']:7.1f} tok/s  {r['gflops']:6.1f} GFLOP/s")
print(f"ratio LoRA / reference: {lora['tokens_per_s']/r['tokens_per_s']:.2f}x")
PY
