#!/usr/bin/env bash
# PhotoVerse-mini v2 rebuilt on ONE GPU inside a wall-clock budget (issue 2.2). The recipe is
# configs/mini.yaml + configs/mini_stage2.yaml unchanged (the CPU run's), with --device cuda.
#
#   1. HERE, on the CPU machine (needs pip's index), once per session:
#        training/gpu_rebuild.sh prepare
#      downloads the pure-Python wheels the GPU image lacks or has at other versions, pinned as in
#      training/requirements.txt (diffusers, transformers, ftfy, wcwidth; ~20 MB) into .whl/ and
#      adds /.whl/ and /gpu-state/ to .git/info/exclude.
#   2. THERE, on the lent machine (one H100: 16 cores, no internet, the working tree as the current
#      folder, $OUT = the folder whose files come back), with carry [".whl"] (+ "gpu-state", below):
#        training/gpu_rebuild.sh run BUDGET_SECONDS          e.g. run 560 with timeout_s 600
#      and, straight after it while the machine is warm (it keeps training/work/ between calls),
#        training/gpu_rebuild.sh run 300
#      Every stage resumes from training/work/ (checkpoints every minute; at the deadline the
#      running trainer saves its checkpoint and stops). The last call to finish exports
#      Models/mini and packs it into $OUT as models-mini.tar.partNN (15 MiB pieces):
#        cat models-mini.tar.part* | tar -x      (in the repository root: Models/mini,
#                                                 training/RESULTS.md, training/work/eval/grid.png)
#      A call that stops before the end packs the finished stages instead (gpu-state.tar.gz.partNN:
#      the exported base, the networks, finished adapters, or the finished VAE/CLIP while the UNet
#      runs). If the machine was lost, copy those parts into gpu-state/ in the repository root
#      and carry it: the next machine restores them, regenerates the data (about a minute on 14
#      processes) and goes on from the first unfinished stage (an unfinished stage restarts:
#      its optimizer state, 4x the weights, does not fit the 64 MiB that comes back).
#
# What it needs there: a python3 whose torch sees the GPU (the image's /opt/torch/.venv python
# 3.12 with torch 2.11+cu130, numpy, safetensors, tokenizers, huggingface_hub, pyyaml, pillow,
# tqdm, regex) or the repository's .venv if it was built with a CUDA torch; diffusers 0.42.1
# from .whl/ (the image has none), transformers 5.23.0 from .whl/ (the image's 5.17 is used if the
# wheel will not import); without .whl/, the pure-Python packages of a carried .venv (any python
# version) are used instead. No CUDA torch: it says so in one line and stops (exit 3).
#
# Time plan (configs/mini.yaml, TIME PLAN): about 12 minutes of one H100 in all, estimated from
# FLOPs (bench/v2_cost.py); the log this writes ($OUT/gpu_rebuild.log, $OUT/train.log) holds the
# measured s/step of every stage for the record.
#
# Test hooks (tests/test_train_device.py drives the whole flow on the CPU at the tiny size):
# PV_CONFIG (configs/mini.yaml, relative to training/), PV_DEVICE (cuda), PV_WORK (training/work), PV_STATE (gpu-state), PV_PUBLISH (Models/mini),
# PV_RESULTS (training/RESULTS.md), PV_SET (extra train_mini --set options, space-separated),
# PV_SMOKE=0 skips the smoke test, PV_DATA_WORKERS (14), PV_THREADS (4 torch threads per process).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEV=${PV_DEVICE:-cuda}

prepare() {
    local py=${PYTHON:-.venv/bin/python}
    mkdir -p .whl
    "$py" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux2014_x86_64 -d .whl \
        diffusers==0.42.1 transformers==5.23.0 ftfy==6.3.1 wcwidth==0.2.13 || exit 1
    for p in /.whl/ /gpu-state/; do
        grep -qxF "$p" .git/info/exclude 2>/dev/null || echo "$p" >>.git/info/exclude
    done
    du -sh .whl
}

pick_python() {
    local c
    for c in ${PV_PYTHON:-} .venv/bin/python python3 /opt/torch/.venv/bin/python3; do
        [ -x "$(command -v "$c" 2>/dev/null)" ] || continue
        if [ "$DEV" = cpu ] && "$c" -c 'import torch' 2>/dev/null; then
            echo "$c"
            return 0
        fi
        if "$c" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

run() {
    local budget=${1:?usage: gpu_rebuild.sh run BUDGET_SECONDS}
    local t0 deadline reserve=50
    t0=$(date +%s)
    deadline=$((t0 + budget - reserve))
    OUT=${OUT:-$ROOT/training/work/out}
    mkdir -p "$OUT"
    exec > >(tee -a "$OUT/gpu_rebuild.log") 2>&1
    echo "=== gpu_rebuild run: budget ${budget}s, deadline $(date -d @$deadline +%T) (packing after it), $(date)"

    PY=$(pick_python) || {
        echo "gpu_rebuild: no CUDA-enabled torch here (tried \$PV_PYTHON, .venv/bin/python, python3): cannot train on the GPU; stopping"
        exit 3
    }
    local site=/tmp/pv-site
    if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1 && [ ! -e $site/.done ]; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $site .whl/*.whl \
            && touch $site/.done
    fi
    TH=${PV_THREADS:-4}
    export PYTHONPATH=$site:$ROOT/training PYTHONUNBUFFERED=1 OMP_NUM_THREADS=$TH
    # no wheels, but the repository's (CPU) .venv came along: its pure-Python packages serve any
    # python version; torch, numpy, tokenizers, safetensors stay the GPU python's own
    local venv_site
    venv_site=$(ls -d .venv/lib/python3*/site-packages 2>/dev/null | head -1)
    if [ ! -e $site/.done ] && [ -n "$venv_site" ]; then
        mkdir -p $site
        for pkg in diffusers transformers ftfy wcwidth; do
            [ -d "$venv_site/$pkg" ] && [ ! -e "$site/$pkg" ] && ln -s "$ROOT/$venv_site/$pkg" "$site/$pkg"
        done
        echo "gpu_rebuild: no .whl/; using diffusers/transformers/ftfy from $venv_site"
    fi
    if ! "$PY" -c 'import transformers' 2>/dev/null; then
        echo "gpu_rebuild: the carried transformers does not import here; using the image's"
        rm -rf "${site:?}/transformers" "$site"/transformers-*
    fi
    "$PY" -c 'import diffusers, transformers, yaml, safetensors, PIL, numpy, tqdm' 2>/dev/null || {
        echo "gpu_rebuild: $PY lacks diffusers/transformers/pyyaml/safetensors/pillow (carry .whl from 'gpu_rebuild.sh prepare'); stopping"
        exit 3
    }
    "$PY" -c 'import sys, torch, diffusers, transformers
gpu = torch.cuda.get_device_properties(0) if torch.cuda.is_available() else None
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, diffusers {diffusers.__version__}, "
      f"transformers {transformers.__version__}; " + (f"{gpu.name}, {gpu.total_memory / 2**30:.0f} GiB" if gpu else "no GPU"))'
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>/dev/null

    local work=${PV_WORK:-$ROOT/training/work} state=${PV_STATE:-gpu-state}
    local publish=${PV_PUBLISH:-$ROOT/Models/mini} results=${PV_RESULTS:-$ROOT/training/RESULTS.md}
    local sets=() kv
    for kv in ${PV_SET:-}; do sets+=(--set "$kv"); done
    mkdir -p "$work"
    if ls "$state"/gpu-state.tar.gz.part* >/dev/null 2>&1 && [ ! -e "$work/.restored" ]; then
        echo "--- restoring finished stages from $state/"
        cat "$state"/gpu-state.tar.gz.part* | tar -xz -C "$work" && touch "$work/.restored"
    fi

    # 1. smoke: every stage on cuda at the tiny size (seconds), once per machine
    if [ "${PV_SMOKE:-1}" != 0 ] && [ ! -e "$work/.smoke_ok" ]; then
        echo "--- smoke test on $DEV (tiny config)"
        rm -rf /tmp/pv-smoke
        if ! (cd training && timeout 240 "$PY" -m photoverse_train.train_mini --config configs/tiny.yaml \
                --work /tmp/pv-smoke/s1 --device "$DEV" --threads $TH --checkpoint-minutes 1 \
                --only data,vae,vae_decoder,clip,unet,decoder_refine,attributes,identity,evaluator,export) >/tmp/pv-smoke.log 2>&1 \
           || ! (cd training && timeout 120 "$PY" -m photoverse_train.smoke --device "$DEV" --threads $TH \
                --root /tmp/pv-smoke/s2) >>/tmp/pv-smoke.log 2>&1; then
            echo "gpu_rebuild: the smoke test on $DEV failed; its log:"
            tail -40 /tmp/pv-smoke.log
            cp /tmp/pv-smoke.log "$OUT/smoke.log"
            exit 4
        fi
        touch "$work/.smoke_ok"
        echo "--- smoke test ok ($(( $(date +%s) - t0 ))s since start)"
    fi

    local common=(--config "${PV_CONFIG:-configs/mini.yaml}" --work "$work" --device "$DEV" --threads $TH --checkpoint-minutes 1 --stop-at "$deadline"
                  --results "$results" --publish-dir "$publish" "${sets[@]}")
    local rc=0
    tm() {  # a stage that overruns the deadline by 25 s (data, caches, export, evaluation) is
            # stopped, so packing always happens; it resumes from its chunks/checkpoints
        local left=$((deadline + 25 - $(date +%s)))
        [ $left -gt 0 ] || return 75
        (cd training && timeout -s INT $left "$PY" -m photoverse_train.train_mini "${common[@]}" "$@")
        local r=$?
        [ $r -eq 124 ] && return 75
        return $r
    }
    phase() {  # phase NAME CMD1 [-- CMD2 ...]: the commands side by side; 75 = deadline
        local name=$1; shift
        local pids=() args=() r s=0
        echo "--- phase $name ($(( $(date +%s) - t0 ))s since start)"
        while [ $# -gt 0 ]; do
            args=()
            while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
            [ $# -gt 0 ] && shift
            tm "${args[@]}" &
            pids+=($!)
        done
        for p in "${pids[@]}"; do
            wait "$p"; r=$?
            if [ $r -ne 0 ] && [ $s -ne 1 ]; then s=$([ $r -eq 75 ] && echo 75 || echo 1); fi
        done
        return $s
    }
    done_() { [ -e "$work/$1/DONE.json" ]; }

    while :; do
        phase data --only data --set data.workers=${PV_DATA_WORKERS:-14} || { rc=$?; break; }
        if ! done_ export/mini-base; then
            phase base --only vae,vae_decoder,clip,unet,decoder_refine,export -- --only attributes,identity,evaluator || { rc=$?; break; }
        else
            phase nets --only attributes,identity,evaluator || { rc=$?; break; }
        fi
        # the three adapters side by side on the one GPU (each is launch-bound at batch 16)
        phase stage2 --only stage2 --variants full -- --only stage2 --variants no_face -- --only stage2 --variants no_reg \
            || { rc=$?; break; }
        # the evaluation has no checkpoints: start it only with EVAL_SECONDS (default 150) left
        if [ $((deadline - $(date +%s))) -lt ${EVAL_SECONDS:-150} ]; then rc=75; break; fi
        phase evaluate --only evaluate,publish || { rc=$?; break; }
        break
    done
    echo "=== train phases ended: status $rc ($( [ $rc -eq 75 ] && echo 'deadline: run again to resume' || echo "$( [ $rc -eq 0 ] && echo finished || echo failed)" )), $(( $(date +%s) - t0 ))s"
    pack "$rc" "$work" "$publish" "$results"
    echo "=== gpu_rebuild done in $(( $(date +%s) - t0 ))s"
    return $rc
}

pack() {  # at most 8 files of <= 16 MiB come back: logs + 15 MiB parts
    local rc=$1 work=$2 publish=$3 results=$4
    grep -h "s/step\|finished in\|held-out\|PSNR\|ID \|deadline" "$work/train.log" 2>/dev/null | tail -400 >"$OUT/timing.txt"
    tail -c 1500000 "$work/train.log" >"$OUT/train.log" 2>/dev/null
    rm -f "$OUT"/models-mini.tar.part* "$OUT"/gpu-state.tar.gz.part*
    if [ "$rc" -eq 0 ] && [ -e "$work/eval/DONE.json" ] && [ "$publish/README.md" -nt "$work/eval/DONE.json" ]; then
        # in the archive: Models/mini/..., training/RESULTS.md, training/work/eval/grid.png
        local stage; stage=$(mktemp -d)
        mkdir -p "$stage/Models" "$stage/training/work/eval"
        cp -r "$publish" "$stage/Models/mini"
        cp "$results" "$stage/training/RESULTS.md"
        cp "$work/eval/grid.png" "$work/eval/results.json" "$stage/training/work/eval/" 2>/dev/null
        tar -c -C "$stage" Models training | split -b 15M -d -a 2 - "$OUT/models-mini.tar.part"
        rm -rf "$stage"
        echo "--- packed Models/mini: $(du -sh "$publish" | cut -f1) -> $(ls "$OUT"/models-mini.tar.part* | wc -l) part(s)"
    else
        # finished stages, the most valuable first, while they fit 56 MB (64 MiB come back in all,
        # logs included; fp32 weights barely compress); a partial archive would be useless, so
        # whole folders only
        local items=() total=0 size d
        local order=(export/mini-base nets/attributes nets/identity nets/evaluator stage2/full stage2/no_face stage2/no_reg eval)
        [ -e "$work/export/mini-base/DONE.json" ] || order+=(stage1/vae stage1/vae-decoder stage1/clip stage1/unet stage1/vae-refined)
        touch "$work/.restored"  # this machine's work is newer than any state carried to it later
        for d in "${order[@]}"; do
            [ -e "$work/$d/DONE.json" ] || continue
            size=$(du -sm "$work/$d" | cut -f1)
            if [ $((total + size)) -le 56 ]; then items+=("$d"); total=$((total + size)); fi
        done
        [ ${#items[@]} -gt 0 ] || { echo "--- no finished stage to pack"; return; }
        tar -cz -C "$work" "${items[@]}" 2>/dev/null | split -b 15M -d -a 2 - "$OUT/gpu-state.tar.gz.part"
        local n; n=$(ls "$OUT"/gpu-state.tar.gz.part* 2>/dev/null | wc -l)
        echo "--- packed finished stages (${items[*]}) -> $n part(s)"
    fi
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) sed -n '2,40p' "$0"; exit 2 ;;
esac
