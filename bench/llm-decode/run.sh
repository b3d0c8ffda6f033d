#!/usr/bin/env bash
# bench/llm-decode: batch-1 prefill and decode of a ~110M-parameter Llama (random fp32 weights) in
# finadvisor's runtime vs a PyTorch eager reference of the same model, in the same run; decode GB/s of
# weights vs the machine's measured read bandwidth; peak RSS of both.
#   bench/llm-decode/run.sh [PROMPT_TOKENS=128] [NEW_TOKENS=64] [REPEATS=3]
# THREADS (default: nproc) sets the intra-op threads of both sides; the two sides alternate REPEATS
# times and each keeps its best run, so a busy machine hurts both alike.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
malloc_conf="$(tail -n 1 native/jemalloc.conf)"  # jemalloc as the launcher runs it
prompt="${1:-128}"; new="${2:-64}"; repeats="${3:-3}"; threads="${THREADS:-$(nproc)}"
[[ -f app/target/finadvisor.jar ]] || mvn -B -q -o -DskipTests package
cp="app/target/finadvisor.jar:app/target/lib/*"
ckpt="${BENCH_CHECKPOINT:-${TMPDIR:-/tmp}/finadvisor-bench-llama110m}"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
if [[ ! -f "$ckpt/model.safetensors" ]]; then
  java -cp "$cp" dev.finadvisor.llm.RandomCheckpoint bench100m "$ckpt" >/dev/null
fi

# The reference must multiply through OpenBLAS (openmp): Debian's default reference BLAS is 30x slower
# and would make every ratio meaningless (DESIGN.md).
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [[ -f "$openblas/libblas.so.3" ]] && command -v update-alternatives >/dev/null; then
  for lib in libblas.so.3 liblapack.so.3; do
    current="$(readlink -f "/usr/lib/x86_64-linux-gnu/$lib" || true)"
    if [[ "$current" != "$(readlink -f "$openblas/$lib")" ]]; then
      update-alternatives --set "$lib-x86_64-linux-gnu" "$openblas/$lib" >/dev/null
    fi
  done
else
  echo "warning: $openblas not found: install libopenblas0-openmp, or the reference is not a fair one" >&2
fi

jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
preload=""; [[ -f "$jemalloc" ]] && preload="$jemalloc"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work on the machine slows both sides)" >&2
# finadvisor runs as the launcher runs it, MKL vendor shim included on AMD CPUs (native/mkl-amd.c)
shim="$("$root/native/mkl-amd.sh" || true)"
java_preload="${shim:+$shim${preload:+:}}$preload"
java_json=""; ref_json=""
for ((round = 1; round <= repeats; round++)); do
  j="$(OMP_NUM_THREADS=$threads MALLOC_CONF="$malloc_conf" LD_PRELOAD="$java_preload" java --add-modules jdk.incubator.vector -Dai.djl.offline=true \
        -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads=1 -cp "$cp" dev.finadvisor.llm.bench.DecodeBenchmark "$ckpt" "$prompt" "$new" 1 2>/dev/null | tail -1)"
  r="$(OMP_NUM_THREADS=$threads MALLOC_CONF="$malloc_conf" LD_PRELOAD="$preload" \
        /usr/bin/python3 bench/llm-decode/reference.py "$ckpt" "$prompt" "$new" 1 "$threads" | tail -1)"
  java_json="$(/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1] or "{}"); b=json.loads(sys.argv[2]); print(json.dumps(b if not a or b["decode_tok_s"]>a["decode_tok_s"] else a))' "$java_json" "$j")"
  ref_json="$(/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1] or "{}"); b=json.loads(sys.argv[2]); print(json.dumps(b if not a or b["decode_tok_s"]>a["decode_tok_s"] else a))' "$ref_json" "$r")"
done

/usr/bin/python3 - "$java_json" "$ref_json" <<'PY'
import json, sys
j, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"threads: {r['threads']} on each side; best of the alternating runs")
print(f"model: Llama {j['params']/1e6:.1f}M params, fp32 weights {j['weight_mb']:.0f} MB; prompt {j['prompt_tokens']} tokens, {j['new_tokens']} new, batch 1")
print(f"reference: PyTorch {r['torch']} eager, {r['threads']} threads, BLAS {', '.join(r['blas']) or '?'}: matmul 2048^3 {r['matmul_gflops']:.0f} GFLOP/s")
print(f"{'':24}{'finadvisor':>12}{'reference':>12}{'ratio':>8}")
for key, label in [("prefill_tok_s", "prefill tokens/s"), ("decode_tok_s", "decode tokens/s"), ("decode_weight_gb_s", "decode weights GB/s")]:
    print(f"{label:24}{j[key]:12.1f}{r[key]:12.1f}{j[key]/r[key]:8.2f}")
print(f"{'decode, engine ops':24}{j['engine_decode_tok_s']:12.1f}{r['decode_tok_s']:12.1f}{j['engine_decode_tok_s']/r['decode_tok_s']:8.2f}"
      "   (-Dfinadvisor.decode=engine, same JVM)")
print(f"{'peak RSS MB':24}{j['peak_rss_mb']:12.0f}{r['peak_rss_mb']:12.0f}")
print(f"memory read bandwidth (1 GiB sum, same JVM): {j['read_bandwidth_gb_s']:.1f} GB/s; decode reads weights at "
      f"{100*j['decode_weight_gb_s']/j['read_bandwidth_gb_s']:.0f}% of it")
print(f"RSS after loading: {j['rss_after_load_mb']:.0f} MB (before: {j['rss_before_load_mb']:.0f} MB) for {j['weight_mb']:.0f} MB of weights")
PY
