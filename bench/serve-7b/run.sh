#!/usr/bin/env bash
# bench/serve-7b: `finadvisor serve --weights nf4` of a 7B checkpoint on this machine, run as a user runs it (the
# launcher, a Lucene store of the bundled news sample, the falcon template): seconds until /ready and the RSS then; one
# /v1/advice retrieving k=3 news chunks (prompt tokens, seconds); the RSS through it (polled every second) and the peak
# of the whole server process (GNU time).
#   bench/serve-7b/run.sh [PRESET=falcon7b] [WEIGHTS=nf4] [NEW_TOKENS=16]
# PRESET is a random-model preset (falcon7b: Falcon-7B's exact config, bf16 in two shards; llama7b: Llama-2-7B's
# shape), made once into FINADVISOR_BENCH_CACHE (default ~/.cache/finadvisor-bench), outside the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[[ -x /usr/bin/time ]] || { echo "bench/serve-7b: needs GNU time (apt-get install time)" >&2; exit 2; }
preset="${1:-falcon7b}"; weights="${2:-nf4}"; new="${3:-16}"
cache="${FINADVISOR_BENCH_CACHE:-$HOME/.cache/finadvisor-bench}"
ckpt="$cache/$preset"
[[ -f app/target/finadvisor.jar ]] || mvn -B -q -o -DskipTests package
if [[ ! -f "$ckpt/config.json" ]]; then
  echo "writing the $preset checkpoint to $ckpt (once)" >&2
  mkdir -p "$cache"
  DJL_OFFLINE=true java -cp "app/target/finadvisor.jar:app/target/lib/*" dev.finadvisor.llm.RandomCheckpoint "$preset" "$ckpt" >/dev/null
fi
work="$(mktemp -d)"
server=""; java=""; poller=""
trap 'kill ${java:-} ${poller:-} ${server:-} 2>/dev/null; wait; rm -rf "$work"' EXIT
./finadvisor dataset news --out "$work/news.jsonl" > "$work/setup.log" 2>&1 \
  && ./finadvisor ingest --source jsonl --path "$work/news.jsonl" --store "$work/store" >> "$work/setup.log" 2>&1 \
  || { cat "$work/setup.log" >&2; exit 1; }
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

echo "machine: $(nproc) cores, $(awk '/^MemTotal:/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "serve --model $ckpt --weights $weights (checkpoint $(du -sh --apparent-size "$ckpt" | cut -f1))"
start=$(date +%s.%N)
/usr/bin/time -v ./finadvisor serve --model "$ckpt" --weights "$weights" --store "$work/store" --port "$port" \
    --set retrieval.since=all --set generation.template=falcon > "$work/serve.log" 2> "$work/time.log" &
server=$!
until java="$(pgrep -P "$server" | head -1)" && [[ -n $java ]]; do   # GNU time's child: the launcher execs java
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" "$work/time.log" >&2; exit 1; }
  sleep 0.2
done
( while kill -0 "$java" 2>/dev/null; do
    echo "$(echo "$(date +%s.%N) - $start" | bc) $(( $(ps -o rss= -p "$java" 2>/dev/null || echo 0) / 1024 ))" >> "$work/rss"
    sleep 1
  done ) &
poller=$!
rss_now() { tail -n 1 "$work/rss" | cut -d' ' -f2; }
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" "$work/time.log" >&2; exit 1; }
  sleep 1
done
ready=$(echo "$(date +%s.%N) - $start" | bc)
printf "ready after %.0f s at %s MiB RSS\n" "$ready" "$(rss_now)"
asked=$(date +%s.%N)
curl -sS -X POST "http://127.0.0.1:$port/v1/advice" -H 'Content-Type: application/json' -o "$work/answer.json" -d '{
  "about_me": "I am 35, moderate risk tolerance, saving for a house in five years.",
  "question": "Should I add Nvidia after the latest AI chip news?",
  "options": {"max_new_tokens": '"$new"', "k": 3, "temperature": 0}}'
took=$(echo "$(date +%s.%N) - $asked" | bc)
python3 - "$work/answer.json" "$took" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
if "usage" not in a: sys.exit("no answer: " + json.dumps(a)[:500])
print("one /v1/advice: %d prompt tokens (%d sources), %d new: %.1f s (generation %.1f s)" % (
    a["usage"]["prompt_tokens"], len(a["sources"]), a["usage"]["completion_tokens"], float(sys.argv[2]),
    a["timings"]["generation_ms"] / 1000))
PY
sleep 2
kill -TERM "$java"; wait "$server" || true; server=""; java=""   # the server itself, so GNU time reports on it
wait "$poller" || true; poller=""
peak_poll=$(sort -k2 -n "$work/rss" | tail -n 1)
peak_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.log")
printf "peak RSS %s KiB = %.2f GiB = %.2f GB (GNU time); polled peak %s MiB at %.0f s\n" "$peak_kb" \
    "$(echo "$peak_kb / 1048576" | bc -l)" "$(echo "$peak_kb * 1024 / 1000000000" | bc -l)" "${peak_poll#* }" "${peak_poll% *}"
echo "RSS (MiB) every 5 s: $(awk 'NR % 5 == 1 {printf "%.0fs %s  ", $1, $2}' "$work/rss")"
