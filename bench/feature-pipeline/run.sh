#!/usr/bin/env bash
# bench/feature-pipeline: synthetic ~400-word articles through the whole Flink ingest job vs the
# embedding model alone in the same run, then stream-mode freshness at 1 article/s.
# Usage: bench/feature-pipeline/run.sh [ARTICLES=1000] [STREAM_SECONDS=90] [WORDS=400]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o -pl feature-pipeline -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test >/dev/null
cp="feature-pipeline/target/test-classes:feature-pipeline/target/classes:retrieval/target/classes:domain/target/classes:$(cat feature-pipeline/target/bench-classpath.txt)"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
exec java -cp "$cp" dev.finadvisor.feature.bench.FeaturePipelineBench "$@"
