#!/usr/bin/env bash
# bench/forward-rss: resident memory across forward passes of the bench100m Llama (batch 1 x 256 tokens)
# under jemalloc with the launcher's MALLOC_CONF (native/jemalloc.conf) against the same without
# lg_extent_max_active_fit (the launcher's setting before 2026-11-26): flat vs rising by a pass's activations.
# usage: bench/forward-rss/run.sh [PASSES=8]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
passes="${1:-8}"
if [[ ! -f app/target/finadvisor.jar ]]; then mvn -q -B -o -DskipTests package; fi
cp="app/target/finadvisor.jar:app/target/lib/*"
ckpt="${BENCH_DIR:-/tmp/finadvisor-bench}/bench100m"
if [[ ! -f "$ckpt/model.safetensors" ]]; then java -cp "$cp" dev.finadvisor.llm.RandomCheckpoint bench100m "$ckpt" >/dev/null; fi
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[[ -f $jemalloc ]] || { echo "bench/forward-rss: needs libjemalloc2 (apt-get install libjemalloc2)" >&2; exit 2; }
shim="$(native/mkl-amd.sh || true)"
for conf in "$(tail -n 1 native/jemalloc.conf)" "dirty_decay_ms:-1,muzzy_decay_ms:-1"; do
  LD_PRELOAD="${shim:+$shim:}$jemalloc" MALLOC_CONF="$conf" DJL_OFFLINE=true OPT_OUT_TRACKING=true \
    java -Dai.djl.offline=true -cp "$cp" bench/forward-rss/ForwardRss.java "$ckpt" "$passes" 256 2>/dev/null | tail -1
done
