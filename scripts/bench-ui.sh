#!/usr/bin/env bash
# UI responsiveness figures, measured from outside the program the way a user meets them: the
# real `photoverse ui` in a tmux terminal (as Tests/TUITests/TmuxSession.swift drives it), a
# queue of 16 runs of 150 steps going on (the tiny test model unless --model), and
#   - first preview: from `g` written to the terminal to the preview on screen, and the UI's own
#     trace (PHOTOVERSE_TRACE: from reading `g` to the frame that shows the preview);
#   - key latency: from a key written to the terminal (tmux send-keys) to the screen showing its
#     effect (the selected parameter row moved), polled with capture-pane; the UI's own trace
#     (from reading the key to the frame) beside it. The difference is the time a key waits
#     before the UI reads it.
# These are figures, not tests: the suite asserts behaviour only (EndToEndTests).
#
#   scripts/bench-ui.sh [--keys N] [--busy] [--model DIR]
#
# --busy keeps one extra core busy (a shell loop) for the whole measurement, as on a shared
# machine. The binary: $PHOTOVERSE_BIN, else .build/release/photoverse (built here if missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEYS=20
STEPS=150
BATCH=16
BUSY=0
MODEL="$ROOT/Tests/Fixtures/tiny-sd"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keys) KEYS="$2"; shift 2 ;;
        --busy) BUSY=1; shift ;;
        --model) MODEL="$(cd "$2" && pwd)"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "bench-ui.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

command -v tmux >/dev/null || { echo "bench-ui.sh: tmux is needed (apt-get install tmux)" >&2; exit 1; }
BIN="${PHOTOVERSE_BIN:-$ROOT/.build/release/photoverse}"
if [[ ! -x "$BIN" ]]; then
    echo "building $BIN ..." >&2
    (cd "$ROOT" && PATH="$PATH:/opt/swift/usr/bin" swift build -c release --product photoverse >&2)
fi

WORK="$(mktemp -d /tmp/photoverse-bench-ui.XXXXXX)"
SOCKET="photoverse-bench-$$"
TRACE="$WORK/trace.txt"
BUSY_PID=""
cleanup() {
    tmux -L "$SOCKET" kill-server 2>/dev/null || true
    [[ -n "$BUSY_PID" ]] && kill "$BUSY_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

tmx() { tmux -L "$SOCKET" "$@"; }
screen() { tmx capture-pane -p -t main; }
now_us() { local t="${EPOCHREALTIME/./}"; echo "$t"; }

# Waits until the screen contains $1 (fixed string), up to $2 seconds.
wait_for() {
    local deadline=$((SECONDS + ${2:-30}))
    while ((SECONDS < deadline)); do
        if screen | grep -qF -- "$1"; then return 0; fi
        sleep 0.02
    done
    echo "bench-ui.sh: timed out waiting for '$1'; the screen was:" >&2
    screen >&2
    exit 1
}

# The line with the selected parameter (the one showing ◀ value ▶).
selected() { screen | grep -F '◀' | head -1; }

cat > "$WORK/run.sh" <<EOF
cd '$WORK'
env -i HOME='$WORK' XDG_CONFIG_HOME='$WORK/.config' XDG_DATA_HOME='$WORK/.local/share' TERM=xterm-256color LANG=C.UTF-8 \
    PATH=/usr/bin:/bin PHOTOVERSE_TRACE='$TRACE' '$BIN' ui --model '$MODEL' --images blocks
exec sleep 600
EOF
tmx -f /dev/null new-session -d -x 100 -y 32 -s main "sh '$WORK/run.sh'"
wait_for "ready" 60

if ((BUSY)); then
    sh -c 'while :; do :; done' &
    BUSY_PID=$!
fi

# Steps 150 and batch 16, the UI's largest (as EndToEndTests.setSteps sets them): long enough to outlast the keys.
tmx send-keys -t main Tab Tab
for _ in 1 2 3 4 5 6; do tmx send-keys -t main Down; done
tmx send-keys -t main Enter C-u
tmx send-keys -t main -l "$STEPS"
tmx send-keys -t main Enter
wait_for "◀ $STEPS ▶"
for _ in 1 2 3; do tmx send-keys -t main Down; done
tmx send-keys -t main Enter C-u
tmx send-keys -t main -l "$BATCH"
tmx send-keys -t main Enter
wait_for "◀ $BATCH ▶"

# The measuring stick: one look at the screen (a capture-pane round trip through tmux).
polls=()
for _ in 1 2 3 4 5 6 7 8 9 10; do t0=$(now_us); selected >/dev/null; t1=$(now_us); polls+=($(( (t1 - t0) / 100 ))); done

# First preview: `g` written -> the step counter on screen; the UI's trace gives g read -> preview frame.
# (The progress line and the preview come with the same first step event.)
t0=$(now_us)
tmx send-keys -t main g
while ! screen | grep -qE "[0-9]+/$STEPS"; do :; done
t1=$(now_us)
progress_ms=$(( (t1 - t0) / 1000 ))

# Keys during the run: alternate Up/Down; each from send-keys to the selection moving on screen.
latencies=()
for ((i = 0; i < KEYS; i++)); do
    key=$([[ $((i % 2)) -eq 0 ]] && echo Up || echo Down)
    before="$(selected)"
    t0=$(now_us)
    tmx send-keys -t main "$key"
    deadline=$((SECONDS + 5))
    while [[ "$(selected)" == "$before" ]]; do
        ((SECONDS < deadline)) || { echo "bench-ui.sh: key $key had no visible effect in 5 s" >&2; exit 1; }
    done
    t1=$(now_us)
    latencies+=($(( (t1 - t0) / 100 )))   # tenths of a millisecond
    sleep 0.05
done
running="$(screen | grep -oE "[0-9]+/$STEPS" | head -1 || true)"
tmx send-keys -t main Escape
wait_for "run cancelled"
tmx send-keys -t main q
sleep 0.5

stats() {   # tenths of ms, one a line -> "median X ms, 90% Y ms, max Z ms (n=N)"
    sort -n | awk '{ v[NR] = $1 } END { p = int(NR * 0.9 + 0.5); if (p < 1) p = 1
        printf "median %.1f ms, 90%% %.1f ms, max %.1f ms (n=%d)", v[int((NR + 1) / 2)] / 10, v[p] / 10, v[NR] / 10, NR }'
}
ui_first="$(awk '$1 == "first-preview" { print $2; exit }' "$TRACE")"
ui_keys="$(awk '$1 == "key" { printf "%d\n", $2 * 10 }' "$TRACE" | stats)"

echo "photoverse UI figures ($(basename "$MODEL"), $BATCH runs of $STEPS steps queued, $(nproc) cores$( ((BUSY)) && echo ', one core kept busy'))"
echo "  g written -> progress on screen:        ${progress_ms} ms"
echo "  g read -> preview frame (UI trace):     ${ui_first:-?} ms"
echo "  key written -> effect on screen:        $(printf '%s\n' "${latencies[@]}" | stats)"
echo "  key read -> frame (UI trace, all keys): ${ui_keys}"
echo "  one look at the screen (capture-pane):  $(printf '%s\n' "${polls[@]}" | stats) -- the resolution of the 'on screen' figures"
[[ -n "$running" ]] || echo "  warning: the run ended before the keys were done (use a slower --model)" >&2
echo "  (the run was at step ${running:-?} when the keys were done)"
