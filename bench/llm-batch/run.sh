#!/usr/bin/env bash
# bench/llm-batch: decode steps of 1, 2, 4, 8 and 16 sequences together (continuous batching's inner loop), each with
# CONTEXT cached positions: ms per step and tokens/s against batch 1 in the same process.
#   bench/llm-batch/run.sh [PRESET=bench100m] [FORMAT=auto] [CONTEXT=400] [STEPS=20]
# The checkpoint (a RandomCheckpoint preset) is made once into ~/.cache/finadvisor-bench/PRESET.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
preset="${1:-bench100m}"; format="${2:-auto}"; context="${3:-400}"; steps="${4:-20}"
[[ -f app/target/finadvisor.jar ]] || mvn -B -q -o -DskipTests package
cp="app/target/finadvisor.jar:app/target/lib/*"
ckpt="$HOME/.cache/finadvisor-bench/$preset"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
[[ -f "$ckpt/config.json" ]] || java -cp "$cp" dev.finadvisor.llm.RandomCheckpoint "$preset" "$ckpt" >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $preset as $format, $context cached positions per sequence" >&2
exec java --add-modules jdk.incubator.vector -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0 -Dai.djl.offline=true \
    -cp "$cp" dev.finadvisor.llm.bench.BatchDecodeBenchmark "$ckpt" "$format" "$context" "$steps" 2> >(grep -v "WARNING: Using incubator" >&2)
