#!/bin/bash
# Builds the fuzz targets (libFuzzer + AddressSanitizer) and runs each for FUZZ_SECONDS, one at a
# time, then prints executions and findings per target.
#
#   Fuzz/run.sh                    every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SMOKE=1 FUZZ_SECONDS=3 Fuzz/run.sh   the smoke run (`make fuzz-smoke`): from the committed
#                                  seeds only, new inputs kept in a temporary folder
#   Fuzz/run.sh png config         only these targets
#   FUZZ_BUILD=0 Fuzz/run.sh ...   run without rebuilding
#   FUZZ_RUNS=1000000 ...          stop each target after this many executions (FUZZ_SECONDS caps it)
#
# New inputs that reach new code go to Fuzz/work/<target> (not committed; seeded from the committed
# Fuzz/corpus/<target>); a crash, hang (> FUZZ_TIMEOUT s) or allocation over FUZZ_RSS_MB stops that
# target and leaves its input in Fuzz/findings/<target>/ (so does one allocation over FUZZ_MALLOC_MB). Replay one with
#   Fuzz/.build/release/fuzz-<target> Fuzz/findings/<target>/crash-...
# Exit status: 0 when no target found anything.
set -uo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/opt/swift/usr/bin"

SECONDS_EACH="${FUZZ_SECONDS:-60}"
# A smaller quarantine and memory given back to the OS keep the RSS of long runs flat, so the RSS
# limit flags real excess and not the allocator's caches; short allocation stacks (replay a finding
# with ASAN_OPTIONS=malloc_context_size=30 for full ones) make allocation-heavy targets 2x faster.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64:allocator_release_to_os_interval_ms=500:malloc_context_size=2:detect_leaks=1}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
# Inputs are at most 64 KiB and images are decoded with a 64K-pixel limit: any single allocation
# over this is a small input costing a huge amount of memory, and counts as a finding.
MALLOC_MB="${FUZZ_MALLOC_MB:-64}"
ALL=(safetensors png jpeg config adapter-metadata tokenizer cli model)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

max_len() {
    case "$1" in
        png|jpeg) echo 65536 ;;
        safetensors|config|adapter-metadata|model) echo 16384 ;;
        tokenizer) echo 2048 ;;
        cli) echo 1024 ;;
    esac
}

dict() {
    case "$1" in
        safetensors) echo dicts/safetensors.dict ;;
        config|model) echo dicts/config.dict ;;
        adapter-metadata) echo dicts/adapter-metadata.dict ;;
        cli) echo dicts/cli.dict ;;
        *) echo "" ;;
    esac
}

if [ "${FUZZ_BUILD:-1}" != 0 ]; then
    # The CLI's command files, linked into fuzz-cli (all but main.swift, which would run the CLI).
    mkdir -p Targets/FuzzCLI/Linked
    rm -f Targets/FuzzCLI/Linked/*.swift
    for file in ../Sources/PhotoVerseCLI/*.swift; do
        [ "$(basename "$file")" = main.swift ] && continue
        ln -s "../../../$file" "Targets/FuzzCLI/Linked/$(basename "$file")"
    done
    start=$(date +%s)
    echo "== building the fuzz targets (release, -sanitize=fuzzer,address)"
    # lld: ld.gold (Swift's default on Linux) crashes on these binaries ("internal error in
    # format_file_lineno").
    if ! swift build -c release --scratch-path .build \
            -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld \
            -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | grep -Ev "ld.gold: warning: Cannot export local symbol|^\[" ; then
        :
    fi
    if [ ! -x .build/release/fuzz-png ]; then echo "fuzz build failed"; exit 2; fi
    echo "== build: $(( $(date +%s) - start )) s"
fi

declare -A EXECS RATE FOUND COVER ELAPSED
status=0
for target in "${TARGETS[@]}"; do
    binary=".build/release/fuzz-$target"
    [ -x "$binary" ] || { echo "no such fuzz target: $target"; status=2; continue; }
    mkdir -p "work/$target" "findings/$target"
    log="findings/$target/last-run.log"
    work="work/$target"
    # The smoke run starts from the committed seeds, not from what long runs accumulated (replaying
    # thousands of inputs first would make a 3-second run take minutes).
    [ "${FUZZ_SMOKE:-0}" = 1 ] && work="$(mktemp -d)"
    args=("$work" "corpus/$target" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT"
          -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB" -max_len="$(max_len "$target")" -artifact_prefix="findings/$target/"
          -print_final_stats=1 -close_fd_mask=1)
    d="$(dict "$target")"
    [ -n "$d" ] && args+=(-dict="$d")
    [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
    echo "== fuzz-$target for ${SECONDS_EACH} s${FUZZ_RUNS:+ or $FUZZ_RUNS executions}"
    before=$(ls "findings/$target" | grep -Ec '^(crash|timeout|oom|leak|slow-unit)-' || true)
    started=$(date +%s)
    "$binary" "${args[@]}" > "$log" 2>&1
    code=$?
    ELAPSED[$target]=$(( $(date +%s) - started ))
    [ "${FUZZ_SMOKE:-0}" = 1 ] && rm -rf "$work"
    after=$(ls "findings/$target" | grep -Ec '^(crash|timeout|oom|leak|slow-unit)-' || true)
    EXECS[$target]=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    RATE[$target]=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    COVER[$target]=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
    FOUND[$target]=$(( after - before ))
    if [ $code -ne 0 ] || [ "${FOUND[$target]}" -gt 0 ]; then
        status=1
        echo "   FINDING (exit $code): $(ls -t "findings/$target" | grep -E '^(crash|timeout|oom|leak|slow-unit)-' | head -1)"
        grep -E 'ERROR: |Fatal error|SUMMARY' "$log" | head -3 | sed 's/^/   /'
    fi
done

echo
printf '%-18s %8s %12s %8s %9s  %s\n' target seconds executions exec/s findings coverage
for target in "${TARGETS[@]}"; do
    printf '%-18s %8s %12s %8s %9s  %s\n' "$target" "${ELAPSED[$target]:-?}" "${EXECS[$target]:-?}" "${RATE[$target]:-?}" \
        "${FOUND[$target]:-?}" "${COVER[$target]:-}"
done
exit $status
