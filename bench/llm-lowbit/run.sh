#!/usr/bin/env bash
# bench/llm-lowbit: batch-1 prefill and decode with the weights held as fp32, bf16, int8 and NF4 (generate/serve
# --weights), against llama.cpp's CPU kernels at matching bits per weight (F16, Q8_0, Q4_0) on the same random-weight
# checkpoint, in the same run; decode GB/s of weights against the read bandwidth measured in the same JVMs; load
# time and peak RSS of each.
#   bench/llm-lowbit/run.sh [PRESET=bench1b] [PROMPT_TOKENS=512] [NEW_TOKENS=64] [ROUNDS=2]
# PRESET is a random-model preset (bench1b: TinyLlama-1.1B's shape; llama7b: Llama-2-7B's; falcon7b: Falcon-7B's,
# which llama.cpp's side skips: gguf.py writes the llama architecture only). Checkpoints and GGUF files are made once
# into FINADVISOR_BENCH_CACHE (default ~/.cache/finadvisor-bench), outside the repository.
# FORMATS (default "fp32 bf16 int8 nf4"; the 7B presets drop fp32, 28 GB) and TYPES (default "F16 Q8_0 Q4_0") choose
# the sides; THREADS (default nproc) both sides' threads. The sides alternate ROUNDS times and each keeps its best
# decode, so a busy machine hurts both alike: check that nothing else runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/bench/llm-lowbit"
cd "$root"
preset="${1:-bench1b}"; prompt="${2:-512}"; new="${3:-64}"; rounds="${4:-2}"; threads="${THREADS:-$(nproc)}"
cache="${FINADVISOR_BENCH_CACHE:-$HOME/.cache/finadvisor-bench}"
ckpt="$cache/$preset"
case "$preset" in
  falcon7b|llama7b) formats="${FORMATS:-bf16 int8 nf4}" ;;
  *) formats="${FORMATS:-fp32 bf16 int8 nf4}" ;;
esac
types="${TYPES:-F16 Q8_0 Q4_0}"
[[ "$preset" == falcon* ]] && types=""

[[ -f app/target/finadvisor.jar ]] || mvn -B -q -o -DskipTests package
cp="app/target/finadvisor.jar:app/target/lib/*"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
mkdir -p "$cache"
if [[ ! -f "$ckpt/config.json" ]]; then
  echo "writing the $preset checkpoint to $ckpt (once)" >&2
  java -cp "$cp" dev.finadvisor.llm.RandomCheckpoint "$preset" "$ckpt" >/dev/null
fi
if [[ -n "$types" ]]; then
  command -v node >/dev/null || { echo "node is missing: install Node.js, or run with TYPES=''" >&2; exit 2; }
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || apt-get install -y -q python3-numpy >/dev/null
  [[ -d "$here/node_modules/node-llama-cpp" ]] || (cd "$here" && npm ci --silent)
  for t in $types; do
    [[ -f "$cache/$preset-$t.gguf" ]] || /usr/bin/python3 "$here/gguf.py" "$ckpt" "$cache/$preset-$t.gguf" "$t" >&2
  done
fi

# finadvisor runs as the launcher runs it: jemalloc, the MKL shim on AMD, the Vector API's access checks off.
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
preload=""; [[ -f "$jemalloc" ]] && preload="$jemalloc"
shim="$("$root/native/mkl-amd.sh" || true)"
java_preload="${shim:+$shim${preload:+:}}$preload"
malloc_conf="$(tail -n 1 native/jemalloc.conf)"
mem_kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
finadvisor() {
  OMP_NUM_THREADS=$threads MALLOC_CONF="$malloc_conf" LD_PRELOAD="$java_preload" java --add-modules jdk.incubator.vector \
    -XX:MaxRAMPercentage=75 -XX:MaxDirectMemorySize="${mem_kb}k" -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0 \
    -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads=1 \
    -Dfinadvisor.decode.threads="$threads" -cp "$cp" dev.finadvisor.llm.bench.DecodeBenchmark "$ckpt" "$prompt" "$new" 1 "$1" 2>/dev/null | tail -1
}
llamacpp() {
  (cd "$here" && node llamacpp.mjs "$cache/$preset-$1.gguf" "$prompt" "$new" "$threads" 1 | tail -1)
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $preset, prompt $prompt, $new new tokens, $threads threads, $rounds rounds" >&2
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for ((round = 1; round <= rounds; round++)); do
  for f in $formats; do echo "finadvisor $f $(finadvisor "$f")" >> "$results"; echo "  round $round: finadvisor $f done" >&2; done
  for t in $types; do echo "llama.cpp $t $(llamacpp "$t")" >> "$results"; echo "  round $round: llama.cpp $t done" >&2; done
done

/usr/bin/python3 - "$results" "$preset" <<'PY'
import json, sys
best = {}
for line in open(sys.argv[1]):
    side, name, blob = line.split(" ", 2)
    try:
        r = json.loads(blob)
    except ValueError:
        print(f"{side} {name}: no result ({blob.strip()[:200]})")
        continue
    key = (side, name)
    if key not in best or r["decode_tok_s"] > best[key]["decode_tok_s"]:
        best[key] = r
pairs = {"fp32": None, "bf16": "F16", "int8": "Q8_0", "nf4": "Q4_0"}
bits = {"fp32": 32, "bf16": 16, "int8": 8.5, "nf4": 4.5}
bw = max((r["read_bandwidth_gb_s"] for (s, _), r in best.items() if s == "finadvisor"), default=0)
any_j = next((r for (s, _), r in best.items() if s == "finadvisor"), None)
if any_j:
    print(f"model: {sys.argv[2]}, {any_j['params']/1e9:.2f}B parameters; prompt {any_j['prompt_tokens']} tokens, {any_j['new_tokens']} new, batch 1; "
          f"read bandwidth {bw:.1f} GB/s (1 GiB sum, best of the JVMs)")
print(f"{'weights':8}{'bits':>6}{'load s':>8}{'peak RSS MB':>13}{'prefill t/s':>13}{'decode t/s':>12}{'GB/s':>7}{'% bw':>6}   "
      f"{'llama.cpp':10}{'prefill t/s':>12}{'decode t/s':>11}{'RSS MB':>8}{'decode ratio':>14}")
for f, t in pairs.items():
    j = best.get(("finadvisor", f))
    if j is None:
        continue
    line = (f"{f:8}{bits[f]:>6}{j['load_s']:8.1f}{j['peak_rss_mb']:13.0f}{j['prefill_tok_s']:13.1f}{j['decode_tok_s']:12.2f}"
            f"{j['decode_weight_gb_s']:7.1f}{100 * j['decode_weight_gb_s'] / bw:6.0f}   ")
    r = best.get(("llama.cpp", t)) if t else None
    if r:
        line += f"{t:10}{r['prefill_tok_s']:12.1f}{r['decode_tok_s']:11.2f}{r['peak_rss_mb']:8.0f}{j['decode_tok_s'] / r['decode_tok_s']:14.2f}"
    print(line)
fp32 = best.get(("finadvisor", "fp32"))
if fp32:
    for f in ("bf16", "int8", "nf4"):
        if ("finadvisor", f) in best:
            print(f"{f} decode / fp32 decode (same run): {best[('finadvisor', f)]['decode_tok_s'] / fp32['decode_tok_s']:.2f}x")
PY
