#!/usr/bin/env bash
# Serving benchmark: continuous batching on (server.max_batch 16) against off (1) in the same run, at 1, 4, 16 and 64
# streaming clients, then 16 clients spread over four adapters on the one base: requests/s, output tokens/s, latency
# p50/p99, time to first token, mean decode batch.
# Usage: bench/serve/run.sh [preset (bench100m)] [requests-per-client (2)] [max-new-tokens (128)] [clients (1,4,16,64)]
set -euo pipefail
cd "$(dirname "$0")/../.."
cp=inference-pipeline/target/bench.classpath
mvn -B -q -o -pl inference-pipeline -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$PWD/$cp" -Dmdep.includeScope=test >/dev/null
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[[ -f $jemalloc ]] && export LD_PRELOAD=$jemalloc MALLOC_CONF=${MALLOC_CONF:-$(tail -n 1 native/jemalloc.conf)}
shim="$(native/mkl-amd.sh || true)"   # as the launcher: MKL's fast kernels on AMD CPUs
[[ -n $shim ]] && export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
DJL_OFFLINE=true OPT_OUT_TRACKING=true exec java --add-modules jdk.incubator.vector -Dai.djl.offline=true \
    -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0 \
    -cp "inference-pipeline/target/test-classes:inference-pipeline/target/classes:$(cat "$cp")" \
    dev.finadvisor.inference.bench.ServeBenchmark "$@"
