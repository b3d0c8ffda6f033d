#!/usr/bin/env bash
# bench/tokenizer-train: `finadvisor tokenizer train`'s merge learner (incremental pair counts) against the textbook one
# (recount every pair after every merge), same corpus, same JVM, A-B-A; both must learn the same merges.
# usage: bench/tokenizer-train/run.sh [VOCAB=4000] [CORPUS=the repository's Java sources and Markdown, ~3 MB of varied words]
set -euo pipefail
cd "$(dirname "$0")/../.."
vocab="${1:-4000}"
corpus="${2:-}"
if [[ -z $corpus ]]; then
  corpus="$(mktemp)"
  trap 'rm -f "$corpus"' EXIT
  git ls-files '*.java' '*.md' | xargs cat > "$corpus"
fi
cp=llm/target/bench.classpath
mvn -B -q -o -pl llm -am test-compile dependency:build-classpath -Dmdep.outputFile="$PWD/$cp" -Dmdep.includeScope=test >/dev/null
exec java -cp "llm/target/test-classes:llm/target/classes:$(cat "$cp")" dev.finadvisor.llm.tokenizer.BpeTrainBenchmark "$corpus" "$vocab"
