#!/usr/bin/env bash
# Regenerates llm/src/test/resources/golden/*.json: writes each tiny random checkpoint with the Java
# RandomCheckpoint, then runs the independent PyTorch reference (reference.py) on it.
# Run from the repository root after `mvn -o -q -pl llm -am install -DskipTests` (or compile).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
cd "$root"
mvn -B -q -o -pl llm dependency:build-classpath -Dmdep.outputFile="$root/target/llm-classpath.txt" >/dev/null
cp="llm/target/classes:$(cat target/llm-classpath.txt)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for family in llama llama3 mistral qwen2 falcon falcon-new falcon-seq; do
  java -cp "$cp" dev.finadvisor.llm.RandomCheckpoint "$family" "$work/$family" >/dev/null
  /usr/bin/python3 llm/src/test/python/reference.py "$work/$family" "llm/src/test/resources/golden/$family.json"
  echo "golden: $family"
done
