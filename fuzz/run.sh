#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) with --sanitizer none (stable Rust). Corpora
# start from fuzz/seeds (ours) plus samples of ../shared/corpora when present.
# With AddressSanitizer: `cargo +nightly fuzz run TARGET` (needs a nightly toolchain).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
targets="scan_text scan_json fold_map normalise_map proxy_line config_yaml rule_file"
cargo fuzz build --sanitizer none
for t in $targets; do
  mkdir -p "corpus/$t"
  cp -n seeds/$t/* "corpus/$t/" 2>/dev/null || true
done
if [ -d ../../shared/corpora ]; then
  head -c 200000 ../../shared/corpora/bench/mcp/mcp_messages.ndjson | split -l 1 - corpus/proxy_line/shared- 2>/dev/null || true
  for f in ../../shared/corpora/labelled/*.jsonl; do head -n 20 "$f"; done | split -l 1 - corpus/scan_json/shared- 2>/dev/null || true
  head -c 100000 ../../shared/corpora/bench/loghub/OpenSSH_2k.log > corpus/scan_text/openssh.log || true
fi
for t in $targets; do
  echo "== fuzz $t for ${secs}s"
  log="target/fuzz-$t.log"
  if cargo fuzz run --sanitizer none "$t" "corpus/$t" -- -max_total_time="$secs" -dict=rules.dict -max_len=65536 >"$log" 2>&1; then
    tail -1 "$log"
  else
    # Show what broke (the panic, libFuzzer's report, the input) rather than cargo-fuzz's own trace.
    grep -E -A3 "panicked at|ERROR: libFuzzer|SUMMARY|Test unit written|^Base64:" "$log" | head -40 || true
    echo "fuzz target $t failed; full log: fuzz/$log; reproduce: cargo fuzz run --sanitizer none $t fuzz/artifacts/$t/<file>"
    failed=1
  fi
done
exit "${failed:-0}"
