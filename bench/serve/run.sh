#!/usr/bin/env bash
# Serving benchmark: latency p50/p99, time to first token and requests/s at 1, 4 and 16 clients,
# where the time goes, and the model alone as reference. Usage: bench/serve/run.sh [requests-per-client] [max-new-tokens]
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
    -cp "inference-pipeline/target/test-classes:inference-pipeline/target/classes:$(cat "$cp")" \
    dev.finadvisor.inference.bench.ServeBenchmark "$@"
