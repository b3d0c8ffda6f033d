#!/usr/bin/env bash
# bench/flink-cluster: the feature pipeline on a Flink session cluster in JVMs of its own (1 JobManager, 2 TaskManagers,
# started from Flink's own entrypoints by LocalFlinkCluster). First a cluster with Flink's jars alone gets a JSON Lines
# file from ./finadvisor ingest --flink-master at parallelism 2 (the launcher ships our jars), then FlinkClusterBench
# compares in-process and cluster runs at parallelism 1 and 2 (chunks/s, overhead, per core) and stream freshness at
# 1 article/s.
# Usage: bench/flink-cluster/run.sh [ARTICLES=1000] [STREAM_SECONDS=60] [WORDS=400]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o -DskipTests package >/dev/null
mvn -B -q -o -pl feature-pipeline -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test >/dev/null
cp="feature-pipeline/target/test-classes:feature-pipeline/target/classes:retrieval/target/classes:domain/target/classes:$(cat feature-pipeline/target/bench-classpath.txt)"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true

# 1. A cluster with Flink's jars alone (as a distribution's lib/ has them: flink-classpath.pom), and a submission through
#    the launcher, which ships our jars: nothing of ours is on the cluster's classpath.
work="$(mktemp -d /tmp/flink-cluster-demo.XXXXXX)"
mvn -B -q -o -f bench/flink-cluster/flink-classpath.pom dependency:build-classpath -Dmdep.outputFile="$work/flink-classpath.txt" >/dev/null
java -cp "app/target/lib/*:feature-pipeline/target/test-classes" dev.finadvisor.feature.testing.LocalFlinkCluster "$work/flink" 2 1 \
  "$(cat "$work/flink-classpath.txt")" > "$work/cluster.out" 2>&1 &
cluster=$!
trap 'kill "$cluster" 2>/dev/null || true; wait "$cluster" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "REST at" "$work/cluster.out" 2>/dev/null && break
  kill -0 "$cluster" 2>/dev/null || { cat "$work/cluster.out" >&2; exit 1; }
  sleep 1
done
master="$(sed -n 's/.*REST at \([^,]*\),.*/\1/p' "$work/cluster.out")"
echo "cluster up: $(cat "$work/cluster.out")"
./finadvisor dataset news --out "$work/news.jsonl" >/dev/null
echo "+ ./finadvisor ingest --source jsonl --path news.jsonl --store $work/store --flink-master $master --parallelism 2"
./finadvisor ingest --source jsonl --path "$work/news.jsonl" --store "$work/store" --flink-master "$master" --parallelism 2 2>&1 \
  | grep -v "^WARNING: Using incubator" | tail -3
kill "$cluster"; wait "$cluster" 2>/dev/null || true
trap - EXIT

# 2. The measurements, in one JVM against a cluster of its own.
exec java -cp "$cp" dev.finadvisor.feature.bench.FlinkClusterBench "$@"
