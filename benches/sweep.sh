#!/usr/bin/env bash
# Sweep benchmark (not in CI): generates SIZE_MB of logs from loghub with labelled positives
# planted every 1000 lines, then times, in one run: `wc -l` (the floor), `scan --jobs 1`,
# `scan --jobs 2` (and --jobs 4, 8, 16 where there are that many cores), the same file gzipped, and peak memory
# with the file piped through stdin once and three times (it must stay flat).
# Usage: benches/sweep.sh [SIZE_MB=1024] [WORKDIR=/tmp/parapet-sweep-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
work=${2:-/tmp/parapet-sweep-bench}
mkdir -p "$work"
cargo build --release -q -p mcp-parapet -p parapet-corpora
bin=target/release/mcp-parapet
logs="$work/logs-${size}mb.txt"
[ -f "$logs" ] || target/release/parapet-gen-logs --size-mb "$size" --every 1000 --out "$logs"
planted=$(wc -l <"${logs%.txt}.planted")
bytes=$(stat -c %s "$logs")
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null || true; e=$(date +%s.%N); awk "BEGIN{printf \"%.3f\", $e - $s}"; }
calc() { awk "BEGIN{printf \"%.2f\", $1}"; }
gbps() { calc "$bytes / $1 / 1e9"; }
cat "$logs" >/dev/null # warm the page cache
floor=$(t wc -l "$logs")
echo "input: $logs, $((bytes / 1000000)) MB, $planted positives planted"
echo "wc -l:        $floor s  ($(gbps "$floor") GB/s)"
for j in 1 2 $(for k in 4 8 16; do [ "$(nproc)" -ge "$k" ] && echo "$k"; done); do
  secs=$(t "$bin" scan -q --jobs "$j" --format jsonl "$logs")
  echo "scan --jobs $j: $secs s  ($(gbps "$secs") GB/s, $(calc "$secs / $floor")x wc -l)"
done
{ "$bin" scan -q --jobs "$(nproc)" --format jsonl "$logs" || true; } | python3 -c '
import json, sys
planted = set(int(l) for l in open(sys.argv[1]))
lines = set(json.loads(l)["line"] for l in sys.stdin)
print(f"planted positives found: {len(planted & lines)} of {len(planted)}; findings on other lines: {len(lines - planted)}")
' "${logs%.txt}.planted"
[ -f "$logs.gz" ] || gzip -1 -k "$logs"
gz=$(t "$bin" scan -q --jobs 1 --format jsonl "$logs.gz")
unzip_only=$(t gzip -dc "$logs.gz")
echo "gzip, --jobs 1: $gz s; decompression alone $unzip_only s ($(calc "100 * $unzip_only / $gz")% of it)"
# Flat memory: the same logs piped through stdin once and three times; peak RSS must not grow.
rss() { python3 -c '
import resource, subprocess, sys
n, log, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cat = subprocess.Popen(["cat"] + [log] * n, stdout=subprocess.PIPE)
subprocess.run([binary, "scan", "-q", "--format", "jsonl", "-"], stdin=cat.stdout, stdout=subprocess.DEVNULL)
cat.wait()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$1" "$logs" "$bin"; }
echo "stdin stream, peak RSS: $((bytes / 1000000)) MB -> $(rss 1) MiB; $((3 * bytes / 1000000)) MB -> $(rss 3) MiB"
