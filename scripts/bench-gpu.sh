#!/usr/bin/env bash
# The GPU benchmark on a machine without Node.js, npm or network (see docs/gpu.md).
#
#   scripts/bench-gpu.sh prepare      here (project installed): fills .gpu/ with Node, the
#                                     Vulkan loader .debs, env.sh (../shared/gpu/prepare.sh), the
#                                     bundle with sharp (bundle.tar.xz) and a subset of Imagewoof
#                                     (woof-src.tar.xz: BENCH_WOOF_TRAIN / BENCH_WOOF_VAL images per
#                                     class, default 360 / 90); CIFAR-10's data_batch_1 only with
#                                     BENCH_CIFAR=1 (the copy budget is 64 MiB with the work tree)
#   source .gpu/env.sh && scripts/bench-gpu.sh run [bench-gpu args]
#                                     on the GPU node, from the copied project root: the whole
#                                     measurement in one call (issue 16's sections first); writes
#                                     results.md/results.json/bench.json/torch*.json/bench.log,
#                                     doctor.txt and e2e/ to $OUT
#   source .gpu/env.sh && scripts/bench-gpu.sh doctor
#                                     what the node has and lacks for webgpu, item by item
#   source .gpu/env.sh && scripts/bench-gpu.sh check [gpu-check args]
#                                     on the GPU node: the doctor, test/webgpu's kernel tests
#                                     (bundled) and scripts/gpu-check.ts (one training step vs cpu,
#                                     per tuning variant); writes gpu-tests.log, check.md/json to $OUT
#   source .gpu/env.sh && scripts/bench-gpu.sh jobs [bench-study-jobs args]
#                                     on the GPU node: several small runs on one GPU (issue 15):
#                                     JOBS_RUNS (4) ResNet-20 b128 CIFAR-10 runs of JOBS_STEPS (300)
#                                     steps under webgpu, one at a time, then JOBS_N (4) at once;
#                                     writes jobs.md to $OUT. Needs CIFAR-10 in .gpu/: prepare with
#                                     BENCH_CIFAR=1 BENCH_CIFAR_IMAGES=3000 TEST_IMAGES=1000 BENCH_WOOF_TRAIN=0
#   scripts/bench-gpu.sh tiny         here, on lavapipe: the same bundle with --tiny (small nets,
#                                     a few Imagewoof images per class, PyTorch on the cpu if importable)
#
# Time: `run` stops starting sections after BENCH_BUDGET_S (420) and is stopped at
# BENCH_TIMEOUT_S (510); with env.sh and unpacking, the call stays under ~530 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmd=${1:-help}
[ $# -gt 0 ] && shift

shared=$root/../shared/datasets
cifar_src=${CIFAR10_SRC:-$shared/cifar10/cifar-10-batches-bin}
woof_src=${WOOF_SRC:-$shared/imagewoof2-112}
work=${BENCH_WORK:-/tmp/wtrain-bench}
export BENCH_WORK=$work

unpack() {
  mkdir -p "$work"
  if [ ! -f "$work/bundle/bench-gpu.mjs" ] || [ .gpu/bundle.tar.xz -nt "$work/bundle/bench-gpu.mjs" ]; then
    rm -rf "$work/bundle" && tar -xJf .gpu/bundle.tar.xz -C "$work"
  fi
  woof=""
  if [ -f .gpu/woof-src.tar.xz ]; then
    woof="$work/woof-src"
    if [ ! -d "$woof/train" ] || [ .gpu/woof-src.tar.xz -nt "$woof/train" ]; then
      rm -rf "$woof" && mkdir -p "$woof" && tar -xJf .gpu/woof-src.tar.xz -C "$woof"
    fi
  fi
  cifar=""
  if [ -f .gpu/cifar10/data_batch_1.bin.xz ]; then
    cifar="$work/cifar-10-batches-bin"
    mkdir -p "$cifar"
    [ -f "$cifar/data_batch_1.bin" ] || xz -dc .gpu/cifar10/data_batch_1.bin.xz > "$cifar/data_batch_1.bin"
    cp .gpu/cifar10/batches.meta.txt "$cifar/"
    for f in data_batch_2 data_batch_3 data_batch_4 data_batch_5; do
      ln -sf data_batch_1.bin "$cifar/$f.bin"
    done
    # The test split: its first TEST_IMAGES images when carried, else data_batch_1 again.
    rm -f "$cifar/test_batch.bin"
    if [ -f .gpu/cifar10/test_batch_head.bin.xz ]; then
      xz -dc .gpu/cifar10/test_batch_head.bin.xz > "$cifar/test_batch.bin"
    else
      ln -sf data_batch_1.bin "$cifar/test_batch.bin"
    fi
  fi
}

# The first N files (by name) of each class folder of Imagewoof's split $1, as paths relative to $woof_src.
woof_list() {
  local split=$1 n=$2 cls
  for cls in "$woof_src/$split"/*/; do
    # sed reads to the end (no SIGPIPE under pipefail, unlike head).
    (cd "$woof_src" && find "$split/$(basename "$cls")" -type f | LC_ALL=C sort | sed -n "1,${n}p")
  done
}

need_node() { command -v node >/dev/null || { echo "bench-gpu: no node on PATH: source .gpu/env.sh first" >&2; exit 1; }; }

case "$cmd" in
  prepare)
    node scripts/bundle.mjs --gpu-tests --with-sharp
    # prepare.sh fails when re-run with its .debs already there: run it only when needed.
    if [ ! -f .gpu/env.sh ] || [ ! -f .gpu/node.xz ] || ! ls .gpu/debs/libvulkan1_*.deb >/dev/null 2>&1; then
      "$root/../shared/gpu/prepare.sh"
    fi
    [ -f .gpu/env.sh ] && [ -f .gpu/node.xz ] || { echo "bench-gpu: ../shared/gpu/prepare.sh did not fill .gpu/" >&2; exit 1; }
    echo "bench-gpu: packing the bundle (with sharp)"
    tar -C "$root" -cf - bundle | xz -T2 -6 > .gpu/bundle.tar.xz
    if [ -d "$woof_src/train" ] && [ "${BENCH_WOOF_TRAIN:-360}" -gt 0 ]; then
      echo "bench-gpu: packing Imagewoof, ${BENCH_WOOF_TRAIN:-360} train / ${BENCH_WOOF_VAL:-90} val images per class"
      { woof_list train "${BENCH_WOOF_TRAIN:-360}"; woof_list val "${BENCH_WOOF_VAL:-90}"; } |
        tar -C "$woof_src" -cf - -T - | xz -T2 -6 > .gpu/woof-src.tar.xz
    else
      echo "bench-gpu: no Imagewoof at $woof_src (set WOOF_SRC): the data section and the epoch will be skipped"
      rm -f .gpu/woof-src.tar.xz
    fi
    rm -rf .gpu/cifar10
    if [ "${BENCH_CIFAR:-0}" = 1 ] && [ -f "$cifar_src/data_batch_1.bin" ]; then
      mkdir -p .gpu/cifar10
      cp "$cifar_src/batches.meta.txt" .gpu/cifar10/
      # The first BENCH_CIFAR_IMAGES (10000: all) images of data_batch_1 (a cut file is read, with a warning).
      head -c $((3073 * ${BENCH_CIFAR_IMAGES:-10000})) "$cifar_src/data_batch_1.bin" | xz -T2 -6 > .gpu/cifar10/data_batch_1.bin.xz
      # 3073 bytes per image (label + 32x32x3): the first TEST_IMAGES test images, a held-out val split.
      head -c $((3073 * ${TEST_IMAGES:-2000})) "$cifar_src/test_batch.bin" | xz -T2 -6 > .gpu/cifar10/test_batch_head.bin.xz
    fi
    du -sh .gpu/*
    du -sh .gpu
    tree_kb=$(git ls-files -z --cached --others --exclude-standard | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
    total_kb=$(( $(du -sk .gpu | cut -f1) + tree_kb ))
    echo "bench-gpu: .gpu/ + work tree = $((total_kb / 1024)) MiB of the 64 MiB copy budget"
    [ "$total_kb" -lt $((62 * 1024)) ] || echo "bench-gpu: WARNING: over 62 MiB: lower BENCH_WOOF_TRAIN / BENCH_WOOF_VAL" >&2
    echo "bench-gpu: on the GPU node, from the project root: source .gpu/env.sh && scripts/bench-gpu.sh run"
    ;;
  run)
    need_node
    start=$(date +%s)
    out=${OUT:-$root/bench-results}
    mkdir -p "$out"
    unpack
    node "$work/bundle/bench-gpu.mjs" doctor > "$out/doctor.txt" 2>&1 || true
    cat "$out/doctor.txt"
    args=(--out "$out")
    [ -n "$woof" ] && args+=(--woof "$woof")
    [ -n "$cifar" ] && args+=(--cifar "$cifar")
    # The bench stops starting sections after BENCH_BUDGET_S; the timeout is the hard stop.
    set +e
    BENCH_BUDGET_S=${BENCH_BUDGET_S:-420} timeout --signal=INT -k 10 "${BENCH_TIMEOUT_S:-510}" \
      node "$work/bundle/bench-gpu.mjs" "${args[@]}" "$@" 2>&1 | tee "$out/bench.log"
    rc=${PIPESTATUS[0]}
    set -e
    echo "bench-gpu: exit $rc after $(( $(date +%s) - start )) s (unpacking included); results in $out"
    exit "$rc"
    ;;
  doctor)
    need_node
    unpack
    node "$work/bundle/bench-gpu.mjs" doctor
    ;;
  check)
    need_node
    out=${OUT:-$root/bench-results}
    mkdir -p "$out"
    unpack
    echo "bench-gpu: what this machine has for webgpu"
    if ! node "$work/bundle/bench-gpu.mjs" doctor | tee "$out/doctor.txt"; then
      echo "bench-gpu: webgpu cannot start here: install what is MISSING above, then run check again" >&2
      exit 1
    fi
    set +e
    echo "bench-gpu: kernel tests ($work/bundle/webgpu-tests.mjs)"
    # No adapter is a failure here, not a skip; the adapter's name is in gpu-check's output.
    WTRAIN_REQUIRE_WEBGPU=1 timeout -k 15 "${CHECK_TESTS_TIMEOUT_S:-200}" \
      node --test --test-reporter=spec "$work/bundle/webgpu-tests.mjs" > "$out/gpu-tests.log" 2>&1
    tests_rc=$?
    grep -E '^ *✖|^ℹ (tests|pass|fail|skipped|duration_ms)' "$out/gpu-tests.log" | head -40
    echo "bench-gpu: one training step vs cpu (scripts/gpu-check.ts)"
    timeout -k 15 "${CHECK_TIMEOUT_S:-300}" node "$work/bundle/bench-gpu.mjs" check --out "$out" "$@" 2>&1 | tee "$out/gpu-check.log"
    check_rc=${PIPESTATUS[0]}
    set -e
    echo "bench-gpu: kernel tests exit $tests_rc, gpu-check exit $check_rc; results in $out"
    exit $((tests_rc || check_rc))
    ;;
  jobs)
    need_node
    out=${OUT:-$root/bench-results}
    mkdir -p "$out"
    unpack
    [ -n "$cifar" ] || { echo "bench-gpu jobs: no CIFAR-10 in .gpu/: run BENCH_CIFAR=1 BENCH_CIFAR_IMAGES=3000 TEST_IMAGES=1000 BENCH_WOOF_TRAIN=0 scripts/bench-gpu.sh prepare" >&2; exit 1; }
    node "$work/bundle/bench-gpu.mjs" doctor > "$out/doctor.txt" 2>&1 || true
    set +e
    WTRAIN_BIN="$work/bundle/wtrain.mjs" timeout --signal=INT -k 10 "${JOBS_TIMEOUT_S:-500}" \
      node "$work/bundle/bench-study-jobs.mjs" --config "$root/configs/_base-cifar10.yaml" --data "$cifar" \
      --runs "${JOBS_RUNS:-4}" --jobs "${JOBS_N:-4}" --steps "${JOBS_STEPS:-300}" --set backend.name=webgpu \
      --out "$work/jobs" "$@" 2>&1 | tee "$out/jobs.md"
    rc=${PIPESTATUS[0]}
    set -e
    echo "bench-gpu: jobs exit $rc; $out/jobs.md"
    exit "$rc"
    ;;
  tiny)
    node scripts/bundle.mjs --gpu-tests --with-sharp
    out=${OUT:-$root/tmp/bench-tiny}
    args=(--tiny --out "$out")
    [ -d "$woof_src/train" ] && args+=(--woof "$woof_src")
    [ -f "$cifar_src/data_batch_1.bin" ] && args+=(--cifar "$cifar_src")
    # PyTorch on the cpu where some python3 has it (Debian's python3-torch), else none.
    py=""
    for p in ${PYTHON:-} python3 /usr/bin/python3; do
      "$p" -c 'import torch' 2>/dev/null && { py=$p; break; }
    done
    if [ -n "$py" ]; then args+=(--python "$py" --torch-device cpu); else args+=(--no-torch); fi
    node bundle/bench-gpu.mjs doctor || true
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} node bundle/bench-gpu.mjs "${args[@]}" "$@"
    ;;
  *)
    sed -n '2,33p' "$0"
    ;;
esac
