#!/usr/bin/env bash
# The GPU benchmark on a machine without Node.js, npm or network (see docs/gpu.md).
#
#   scripts/bench-gpu.sh prepare      here (project installed): fills .gpu/ with Node, the
#                                     Vulkan loader .debs, env.sh (../shared/gpu/prepare.sh),
#                                     the bundle (bundle.tar.xz) and one CIFAR-10 batch file
#   source .gpu/env.sh && scripts/bench-gpu.sh run [bench-gpu args]
#                                     on the GPU node, from the copied project root: writes
#                                     results.md/results.json/torch.json/bench.log to $OUT
#   source .gpu/env.sh && scripts/bench-gpu.sh check [gpu-check args]
#                                     on the GPU node: test/webgpu's kernel tests (bundled) and
#                                     scripts/gpu-check.ts (one training step vs cpu, per tuning
#                                     variant); writes gpu-tests.log, check.md/json to $OUT
#   scripts/bench-gpu.sh tiny         here, on lavapipe: the same bundle with --tiny
#
# .gpu/ stays under ~60 MB (the copy budget): CIFAR-10 travels as data_batch_1.bin only
# (10,000 real images, xz); the epoch reads it five times over (50,000 images).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmd=${1:-help}
[ $# -gt 0 ] && shift

cifar_src=${CIFAR10_SRC:-$root/../shared/datasets/cifar10/cifar-10-batches-bin}
work=${BENCH_WORK:-/tmp/wtrain-bench}

unpack() {
  mkdir -p "$work"
  if [ ! -f "$work/bundle/bench-gpu.mjs" ] || [ .gpu/bundle.tar.xz -nt "$work/bundle/bench-gpu.mjs" ]; then
    rm -rf "$work/bundle" && tar -xJf .gpu/bundle.tar.xz -C "$work"
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

case "$cmd" in
  prepare)
    node scripts/bundle.mjs --gpu-tests
    # prepare.sh fails when re-run with its .debs already there: run it only when needed.
    if [ ! -f .gpu/env.sh ] || [ ! -f .gpu/node.xz ] || ! ls .gpu/debs/libvulkan1_*.deb >/dev/null 2>&1; then
      "$root/../shared/gpu/prepare.sh"
    fi
    [ -f .gpu/env.sh ] && [ -f .gpu/node.xz ] || { echo "bench-gpu: ../shared/gpu/prepare.sh did not fill .gpu/" >&2; exit 1; }
    echo "bench-gpu: packing the bundle"
    tar -C "$root" -cf - bundle | xz -T2 -6 > .gpu/bundle.tar.xz
    if [ -f "$cifar_src/data_batch_1.bin" ]; then
      mkdir -p .gpu/cifar10
      cp "$cifar_src/batches.meta.txt" .gpu/cifar10/
      [ -f .gpu/cifar10/data_batch_1.bin.xz ] || xz -T2 -6 -c "$cifar_src/data_batch_1.bin" > .gpu/cifar10/data_batch_1.bin.xz
      # 3073 bytes per image (label + 32x32x3): the first TEST_IMAGES test images, a held-out val split.
      [ -f .gpu/cifar10/test_batch_head.bin.xz ] ||
        head -c $((3073 * ${TEST_IMAGES:-2000})) "$cifar_src/test_batch.bin" | xz -T2 -6 > .gpu/cifar10/test_batch_head.bin.xz
    else
      echo "bench-gpu: no CIFAR-10 at $cifar_src (set CIFAR10_SRC): the epoch will be skipped"
    fi
    du -sh .gpu
    echo "bench-gpu: on the GPU node, from the project root: source .gpu/env.sh && scripts/bench-gpu.sh run"
    ;;
  run)
    command -v node >/dev/null || { echo "bench-gpu: no node on PATH: source .gpu/env.sh first" >&2; exit 1; }
    out=${OUT:-$root/bench-results}
    mkdir -p "$out"
    unpack
    args=(--out "$out")
    [ -n "$cifar" ] && args+=(--cifar "$cifar")
    # The bench stops starting sections after BENCH_BUDGET_S; the timeout is the hard stop.
    set +e
    BENCH_BUDGET_S=${BENCH_BUDGET_S:-420} timeout --signal=INT "${BENCH_TIMEOUT_S:-530}" \
      node "$work/bundle/bench-gpu.mjs" "${args[@]}" "$@" 2>&1 | tee "$out/bench.log"
    rc=${PIPESTATUS[0]}
    set -e
    echo "bench-gpu: exit $rc; results in $out"
    exit "$rc"
    ;;
  check)
    command -v node >/dev/null || { echo "bench-gpu: no node on PATH: source .gpu/env.sh first" >&2; exit 1; }
    out=${OUT:-$root/bench-results}
    mkdir -p "$out"
    unpack
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
  tiny)
    node scripts/bundle.mjs --gpu-tests
    out=${OUT:-$root/tmp/bench-tiny}
    args=(--tiny --out "$out" --no-torch)
    [ -f "$cifar_src/data_batch_1.bin" ] && args+=(--cifar "$cifar_src")
    node bundle/bench-gpu.mjs "${args[@]}" "$@"
    ;;
  *)
    sed -n '2,18p' "$0"
    ;;
esac
