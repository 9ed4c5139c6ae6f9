;; BatchNorm (training mode) kernels for wtrain on tfjs's wasm backend; see batch_norm.ts.
;;
;; The module imports tfjs's own wasm memory, so every pointer below is a byte
;; offset into that heap: a tensor's `memoryOffset`, or a scratch block from tfjs's
;; malloc. Tensors are f32, row-major. For BatchNorm an NHWC tensor is read as
;; [M, C]: M = N·H·W rows of C channels. Any C works (4 channels per v128, then a
;; scalar tail); pointers need no alignment.
;;
;; Compiled by scripts/build-wasm.mjs into modules.generated.ts (`npm run build:wasm`).
(module
  (import "env" "memory" (memory 1))

  ;; Rows per chunk of the column sums: about `floats` floats of each input, so the
  ;; chunk stays in L1 while each group of 4 channels sweeps it with its sums in
  ;; registers (max(1, floats / c)).
  (func $chunkRows (param $c i32) (param $floats i32) (result i32)
    (local $r i32)
    (local.set $r (i32.div_u (local.get $floats) (local.get $c)))
    (select (local.get $r) (i32.const 1) (local.get $r)))

  ;; f64 pairs at p, p+16 += lo, hi.
  (func $acc2 (param $p i32) (param $lo v128) (param $hi v128)
    (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p)) (local.get $lo)))
    (v128.store offset=16 (local.get $p)
      (f64x2.add (v128.load offset=16 (local.get $p)) (local.get $hi))))

  ;; f64 at p += v.
  (func $acc1 (param $p i32) (param $v f64)
    (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $v))))

  ;; The load floor: 0 with $relu (max(x, 0) = ReLU), −∞ without (max(x, −∞) = x).
  (func $floor (param $relu i32) (result f32)
    (select (f32.const 0) (f32.const -inf) (local.get $relu)))

  ;; BatchNorm forward statistics, one pass in f64, shifted by the first row:
  ;; k_j = x[0, j] is within a few σ of the mean, so Σd²/M − (Σd/M)² does not cancel
  ;; (d = x − k is exact in f64):
  ;;   acc[j] = Σ_r d[r, j],  acc[c + j] = Σ_r d[r, j]²   (acc: f64[2c], zeroed here)
  ;; With $relu ≠ 0, x reads as ReLU(x) (the fused after_relu unit) in this and every
  ;; kernel below: each load goes through max(·, floor), floor = 0 or −∞ (an identity,
  ;; NaN included).
  (func (export "bn_stats") (param $x i32) (param $m i32) (param $c i32) (param $acc i32) (param $relu i32)
    (local $rows i32) (local $r0 i32) (local $n i32) (local $j i32) (local $cv i32)
    (local $stride i32) (local $p i32) (local $end i32)
    (local $v v128) (local $lo v128) (local $hi v128)
    (local $s0 v128) (local $s1 v128) (local $q0 v128) (local $q1 v128) (local $k0 v128) (local $k1 v128)
    (local $e f64) (local $s f64) (local $q f64) (local $k f64) (local $floor v128) (local $sfloor f32)
    (local.set $sfloor (call $floor (local.get $relu)))
    (local.set $floor (f32x4.splat (local.get $sfloor)))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $c) (i32.const 4)))
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $cv (i32.and (local.get $c) (i32.const -4)))
    (local.set $rows (call $chunkRows (local.get $c) (i32.const 4096)))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $r0) (local.get $m)))
        (local.set $n (i32.sub (local.get $m) (local.get $r0)))
        (if (i32.gt_u (local.get $n) (local.get $rows)) (then (local.set $n (local.get $rows))))
        (local.set $j (i32.const 0))
        ;; 4 channels at a time: lanes 0-1 in s0/q0, lanes 2-3 in s1/q1
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $j) (local.get $cv)))
            (local.set $p (i32.add (local.get $x) (i32.shl
              (i32.add (i32.mul (local.get $r0) (local.get $c)) (local.get $j)) (i32.const 2))))
            (local.set $end (i32.add (local.get $p) (i32.mul (local.get $n) (local.get $stride))))
            (local.set $v (f32x4.max (v128.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
              (local.get $floor)))
            (local.set $k0 (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $k1 (f64x2.promote_low_f32x4 (i8x16.shuffle
              8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))
            (local.set $s0 (v128.const i64x2 0 0))
            (local.set $s1 (v128.const i64x2 0 0))
            (local.set $q0 (v128.const i64x2 0 0))
            (local.set $q1 (v128.const i64x2 0 0))
            (loop $row
              (local.set $v (f32x4.max (v128.load (local.get $p)) (local.get $floor)))
              (local.set $lo (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $k0)))
              (local.set $hi (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle
                8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))) (local.get $k1)))
              (local.set $s0 (f64x2.add (local.get $s0) (local.get $lo)))
              (local.set $s1 (f64x2.add (local.get $s1) (local.get $hi)))
              (local.set $q0 (f64x2.add (local.get $q0) (f64x2.mul (local.get $lo) (local.get $lo))))
              (local.set $q1 (f64x2.add (local.get $q1) (f64x2.mul (local.get $hi) (local.get $hi))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $row (i32.lt_u (local.get $p) (local.get $end))))
            (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (call $acc2 (local.get $p) (local.get $s0) (local.get $s1))
            (call $acc2 (i32.add (local.get $p) (i32.shl (local.get $c) (i32.const 3)))
              (local.get $q0) (local.get $q1))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $vec)))
        ;; the last c mod 4 channels one at a time
        (block $sdone
          (loop $col
            (br_if $sdone (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $p (i32.add (local.get $x) (i32.shl
              (i32.add (i32.mul (local.get $r0) (local.get $c)) (local.get $j)) (i32.const 2))))
            (local.set $end (i32.add (local.get $p) (i32.mul (local.get $n) (local.get $stride))))
            (local.set $k (f64.promote_f32 (f32.max (f32.load
              (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))) (local.get $sfloor))))
            (local.set $s (f64.const 0))
            (local.set $q (f64.const 0))
            (loop $srow
              (local.set $e (f64.sub (f64.promote_f32 (f32.max (f32.load (local.get $p)) (local.get $sfloor)))
                (local.get $k)))
              (local.set $s (f64.add (local.get $s) (local.get $e)))
              (local.set $q (f64.add (local.get $q) (f64.mul (local.get $e) (local.get $e))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $srow (i32.lt_u (local.get $p) (local.get $end))))
            (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (call $acc1 (local.get $p) (local.get $s))
            (call $acc1 (i32.add (local.get $p) (i32.shl (local.get $c) (i32.const 3))) (local.get $q))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $col)))
        (local.set $r0 (i32.add (local.get $r0) (local.get $n)))
        (br $chunk))))

  ;; BatchNorm forward output: y[r, j] = (x[r, j] − mean[j])·scale[j] + beta[j]
  ;; (mean, scale, beta: f32[c]; scale = γ/√(σ² + ε)).
  (func (export "bn_apply") (param $x i32) (param $y i32) (param $m i32) (param $c i32)
    (param $mean i32) (param $scale i32) (param $beta i32) (param $relu i32)
    (local $stride i32) (local $vb i32) (local $end i32) (local $t i32) (local $floor v128) (local $sfloor f32)
    (local.set $sfloor (call $floor (local.get $relu)))
    (local.set $floor (f32x4.splat (local.get $sfloor)))
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $vb (i32.and (local.get $stride) (i32.const -16)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $m) (local.get $stride))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $t (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $t) (local.get $vb)))
            (v128.store (i32.add (local.get $y) (local.get $t))
              (f32x4.add
                (f32x4.mul
                  (f32x4.sub (f32x4.max (v128.load (i32.add (local.get $x) (local.get $t))) (local.get $floor))
                    (v128.load (i32.add (local.get $mean) (local.get $t))))
                  (v128.load (i32.add (local.get $scale) (local.get $t))))
                (v128.load (i32.add (local.get $beta) (local.get $t)))))
            (local.set $t (i32.add (local.get $t) (i32.const 16)))
            (br $vec)))
        (block $sdone
          (loop $col
            (br_if $sdone (i32.ge_u (local.get $t) (local.get $stride)))
            (f32.store (i32.add (local.get $y) (local.get $t))
              (f32.add
                (f32.mul
                  (f32.sub (f32.max (f32.load (i32.add (local.get $x) (local.get $t))) (local.get $sfloor))
                    (f32.load (i32.add (local.get $mean) (local.get $t))))
                  (f32.load (i32.add (local.get $scale) (local.get $t))))
                (f32.load (i32.add (local.get $beta) (local.get $t)))))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $col)))
        (local.set $x (i32.add (local.get $x) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (local.get $stride)))
        (br $row))))

  ;; BatchNorm backward sums, in f64 with x − μ formed first (no cancellation later):
  ;;   acc[j] = Σ_r dy[r, j],  acc[c + j] = Σ_r dy[r, j]·(x[r, j] − mean[j])
  ;; (acc: f64[2c], zeroed here).
  (func (export "bn_grad_sums") (param $dy i32) (param $x i32) (param $m i32) (param $c i32)
    (param $mean i32) (param $acc i32) (param $relu i32)
    (local $rows i32) (local $r0 i32) (local $n i32) (local $j i32) (local $cv i32)
    (local $stride i32) (local $o i32) (local $end i32) (local $p i32)
    (local $mu v128) (local $g v128) (local $d v128) (local $glo v128) (local $ghi v128)
    (local $s0 v128) (local $s1 v128) (local $q0 v128) (local $q1 v128)
    (local $smu f32) (local $e f64) (local $s f64) (local $q f64) (local $floor v128) (local $sfloor f32)
    (local.set $sfloor (call $floor (local.get $relu)))
    (local.set $floor (f32x4.splat (local.get $sfloor)))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $c) (i32.const 4)))
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $cv (i32.and (local.get $c) (i32.const -4)))
    (local.set $rows (call $chunkRows (local.get $c) (i32.const 2048)))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $r0) (local.get $m)))
        (local.set $n (i32.sub (local.get $m) (local.get $r0)))
        (if (i32.gt_u (local.get $n) (local.get $rows)) (then (local.set $n (local.get $rows))))
        (local.set $j (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $j) (local.get $cv)))
            ;; o: byte offset of element [r, j] in both dy and x
            (local.set $o (i32.shl
              (i32.add (i32.mul (local.get $r0) (local.get $c)) (local.get $j)) (i32.const 2)))
            (local.set $end (i32.add (local.get $o) (i32.mul (local.get $n) (local.get $stride))))
            (local.set $mu (v128.load (i32.add (local.get $mean) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $s0 (v128.const i64x2 0 0))
            (local.set $s1 (v128.const i64x2 0 0))
            (local.set $q0 (v128.const i64x2 0 0))
            (local.set $q1 (v128.const i64x2 0 0))
            (loop $row
              (local.set $g (v128.load (i32.add (local.get $dy) (local.get $o))))
              (local.set $d (f32x4.sub (f32x4.max (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $floor))
                (local.get $mu)))
              (local.set $glo (f64x2.promote_low_f32x4 (local.get $g)))
              (local.set $ghi (f64x2.promote_low_f32x4 (i8x16.shuffle
                8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $g) (local.get $g))))
              (local.set $s0 (f64x2.add (local.get $s0) (local.get $glo)))
              (local.set $s1 (f64x2.add (local.get $s1) (local.get $ghi)))
              (local.set $q0 (f64x2.add (local.get $q0)
                (f64x2.mul (local.get $glo) (f64x2.promote_low_f32x4 (local.get $d)))))
              (local.set $q1 (f64x2.add (local.get $q1)
                (f64x2.mul (local.get $ghi) (f64x2.promote_low_f32x4 (i8x16.shuffle
                  8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $d) (local.get $d))))))
              (local.set $o (i32.add (local.get $o) (local.get $stride)))
              (br_if $row (i32.lt_u (local.get $o) (local.get $end))))
            (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (call $acc2 (local.get $p) (local.get $s0) (local.get $s1))
            (call $acc2 (i32.add (local.get $p) (i32.shl (local.get $c) (i32.const 3)))
              (local.get $q0) (local.get $q1))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $vec)))
        (block $sdone
          (loop $col
            (br_if $sdone (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $o (i32.shl
              (i32.add (i32.mul (local.get $r0) (local.get $c)) (local.get $j)) (i32.const 2)))
            (local.set $end (i32.add (local.get $o) (i32.mul (local.get $n) (local.get $stride))))
            (local.set $smu (f32.load (i32.add (local.get $mean) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $s (f64.const 0))
            (local.set $q (f64.const 0))
            (loop $srow
              (local.set $e (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $o)))))
              (local.set $s (f64.add (local.get $s) (local.get $e)))
              (local.set $q (f64.add (local.get $q) (f64.mul (local.get $e) (f64.promote_f32
                (f32.sub (f32.max (f32.load (i32.add (local.get $x) (local.get $o))) (local.get $sfloor))
                  (local.get $smu))))))
              (local.set $o (i32.add (local.get $o) (local.get $stride)))
              (br_if $srow (i32.lt_u (local.get $o) (local.get $end))))
            (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (call $acc1 (local.get $p) (local.get $s))
            (call $acc1 (i32.add (local.get $p) (i32.shl (local.get $c) (i32.const 3))) (local.get $q))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $col)))
        (local.set $r0 (i32.add (local.get $r0) (local.get $n)))
        (br $chunk))))

  ;; BatchNorm backward input gradient:
  ;;   dx[r, j] = k[j]·dy[r, j] − (x[r, j] − mean[j])·cc[j] − a[j]   (k, mean, cc, a: f32[c])
  ;; With $relu, x is the ReLU's input and dx goes on through it: 0 where x ≤ 0.
  (func (export "bn_grad_apply") (param $dy i32) (param $x i32) (param $dx i32) (param $m i32)
    (param $c i32) (param $k i32) (param $mean i32) (param $cc i32) (param $a i32) (param $relu i32)
    (local $stride i32) (local $vb i32) (local $end i32) (local $t i32) (local $floor v128) (local $sfloor f32)
    (local $keep v128) (local $xv v128) (local $xs f32)
    (local.set $sfloor (call $floor (local.get $relu)))
    (local.set $floor (f32x4.splat (local.get $sfloor)))
    ;; lanes kept whatever x: all of them without $relu
    (local.set $keep (i32x4.splat (i32.sub (i32.const 0) (i32.eqz (local.get $relu)))))
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $vb (i32.and (local.get $stride) (i32.const -16)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $m) (local.get $stride))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $t (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $t) (local.get $vb)))
            (local.set $xv (v128.load (i32.add (local.get $x) (local.get $t))))
            (v128.store (i32.add (local.get $dx) (local.get $t))
              (v128.and
                (f32x4.sub
                  (f32x4.sub
                    (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $t)))
                      (v128.load (i32.add (local.get $k) (local.get $t))))
                    (f32x4.mul
                      (f32x4.sub (f32x4.max (local.get $xv) (local.get $floor))
                        (v128.load (i32.add (local.get $mean) (local.get $t))))
                      (v128.load (i32.add (local.get $cc) (local.get $t)))))
                  (v128.load (i32.add (local.get $a) (local.get $t))))
                (v128.or (local.get $keep) (f32x4.gt (local.get $xv) (v128.const f32x4 0 0 0 0)))))
            (local.set $t (i32.add (local.get $t) (i32.const 16)))
            (br $vec)))
        (block $sdone
          (loop $col
            (br_if $sdone (i32.ge_u (local.get $t) (local.get $stride)))
            (local.set $xs (f32.load (i32.add (local.get $x) (local.get $t))))
            (f32.store (i32.add (local.get $dx) (local.get $t))
              (select
                (f32.sub
                  (f32.sub
                    (f32.mul (f32.load (i32.add (local.get $dy) (local.get $t)))
                      (f32.load (i32.add (local.get $k) (local.get $t))))
                    (f32.mul
                      (f32.sub (f32.max (local.get $xs) (local.get $sfloor))
                        (f32.load (i32.add (local.get $mean) (local.get $t))))
                      (f32.load (i32.add (local.get $cc) (local.get $t)))))
                  (f32.load (i32.add (local.get $a) (local.get $t))))
                (f32.const 0)
                (i32.or (i32.eqz (local.get $relu)) (f32.gt (local.get $xs) (f32.const 0)))))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $col)))
        (local.set $dy (i32.add (local.get $dy) (local.get $stride)))
        (local.set $x (i32.add (local.get $x) (local.get $stride)))
        (local.set $dx (i32.add (local.get $dx) (local.get $stride)))
        (br $row))))
)
