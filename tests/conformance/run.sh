#!/usr/bin/env bash
# Transparency check: the MCP conformance suite against server-everything, directly and through
# `mcp-parapet wrap`, bridged to HTTP by supergateway. Per-scenario results must be identical.
# Usage: tests/conformance/run.sh [path/to/mcp-parapet]   (needs `npm install` here and in ../e2e)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
parapet="${1:-$here/../../target/release/mcp-parapet}"
server="$here/../e2e/node_modules/.bin/mcp-server-everything"
bin="$here/node_modules/.bin"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"
printf 'rate_limit:\n  enabled: false\n' > "$work/parapet.yaml"

run() { # name port command...
  local name=$1 port=$2; shift 2
  "$bin/supergateway" --stdio "$*" --outputTransport streamableHttp --port "$port" --logLevel none \
    >"$work/$name.gateway.log" 2>&1 &
  local gw=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://localhost:$port/mcp" && break; sleep 0.2; done
  "$bin/conformance" server --url "http://localhost:$port/mcp" -o "$work/$name" >"$work/$name.log" 2>&1 || true
  kill $gw 2>/dev/null || true
  wait $gw 2>/dev/null || true
  sed -n '/=== SUMMARY ===/,$p' "$work/$name.log" | grep -E '^[✓✗]' | sort >"$work/$name.summary"
}

run direct 18731 "$server"
run wrapped 18732 "$parapet -c $work/parapet.yaml wrap --name conformance -- $server"
echo "direct:  $(grep -c '^✓' "$work/direct.summary") scenarios pass of $(wc -l <"$work/direct.summary")"
echo "wrapped: $(grep -c '^✓' "$work/wrapped.summary") scenarios pass of $(wc -l <"$work/wrapped.summary")"
if diff "$work/direct.summary" "$work/wrapped.summary"; then
  echo "conformance: identical per-scenario results"
else
  echo "conformance: results differ (above: < direct, > wrapped)"
  exit 1
fi
