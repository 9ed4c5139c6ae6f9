;; Max pooling's backward, four channels at a time: each δ_out goes to the first input
;; of its window (row-major scan) that equals the pooled maximum, as tfjs's cpu kernel
;; decides (its first strict maximum), summed where windows overlap. tfjs-wasm's
;; MaxPoolGrad is scalar (~60 ms for a ResNet-18 stem's 64x16x16x64 at 32x32 input) and
;; disagrees with cpu on some shapes (2x2 windows, 3 channels: tfjs 4.22).
(module
  (import "env" "memory" (memory 0))
  ;; x [n, h, w, c], y and dy [n, ho, wo, c] → dx [n, h, w, c]; window k×k, stride s,
  ;; padding p (top/left). Channels in fours, then one at a time for c % 4.
  (func (export "max_pool_grad")
    (param $x i32) (param $y i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $ho i32) (param $wo i32) (param $k i32) (param $s i32) (param $p i32)
    (local $b i32) (local $oh i32) (local $ow i32) (local $q i32) (local $cb i32)
    (local $i0 i32) (local $i1 i32) (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32)
    (local $row i32) (local $at i32) (local $cbytes i32)
    (local $quads i32) (local $ys f32) (local $ds f32) (local $done i32)
    (local $ymax v128) (local $d v128) (local $found v128) (local $hit v128)
    (local.set $cbytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $quads (i32.and (local.get $cbytes) (i32.const -16)))
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $w)) (local.get $cbytes)))
    (local.set $q (i32.const 0))
    (local.set $b (i32.const 0))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $oh (i32.const 0))
      (block $oh_done (loop $oh_loop
        (br_if $oh_done (i32.ge_u (local.get $oh) (local.get $ho)))
        ;; window rows inside x: [i0, i1)
        (local.set $i0 (i32.sub (i32.mul (local.get $oh) (local.get $s)) (local.get $p)))
        (local.set $i1 (i32.add (local.get $i0) (local.get $k)))
        (if (i32.lt_s (local.get $i0) (i32.const 0)) (then (local.set $i0 (i32.const 0))))
        (if (i32.gt_s (local.get $i1) (local.get $h)) (then (local.set $i1 (local.get $h))))
        (local.set $ow (i32.const 0))
        (block $ow_done (loop $ow_loop
          (br_if $ow_done (i32.ge_u (local.get $ow) (local.get $wo)))
          (local.set $j0 (i32.sub (i32.mul (local.get $ow) (local.get $s)) (local.get $p)))
          (local.set $j1 (i32.add (local.get $j0) (local.get $k)))
          (if (i32.lt_s (local.get $j0) (i32.const 0)) (then (local.set $j0 (i32.const 0))))
          (if (i32.gt_s (local.get $j1) (local.get $w)) (then (local.set $j1 (local.get $w))))
          (local.set $cb (i32.const 0))
          (block $c_done (loop $c_loop
            (br_if $c_done (i32.ge_u (local.get $cb) (local.get $quads)))
            (local.set $at (i32.add (i32.mul (local.get $q) (local.get $cbytes)) (local.get $cb)))
            (local.set $ymax (v128.load (i32.add (local.get $y) (local.get $at))))
            (local.set $d (v128.load (i32.add (local.get $dy) (local.get $at))))
            (local.set $found (v128.const i32x4 0 0 0 0))
            (local.set $i (local.get $i0))
            (block $i_done (loop $i_loop
              (br_if $i_done (i32.ge_s (local.get $i) (local.get $i1)))
              (local.set $row (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $i)) (local.get $w)))
              (local.set $j (local.get $j0))
              (block $j_done (loop $j_loop
                (br_if $j_done (i32.ge_s (local.get $j) (local.get $j1)))
                (local.set $at (i32.add (i32.mul (i32.add (local.get $row) (local.get $j)) (local.get $cbytes)) (local.get $cb)))
                ;; lanes whose maximum is here and was not found earlier in the scan
                (local.set $hit (v128.andnot
                  (f32x4.eq (v128.load (i32.add (local.get $x) (local.get $at))) (local.get $ymax))
                  (local.get $found)))
                (v128.store (i32.add (local.get $dx) (local.get $at))
                  (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $at))) (v128.and (local.get $d) (local.get $hit))))
                (local.set $found (v128.or (local.get $found) (local.get $hit)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $j_loop)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $i_loop)))
            (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
            (br $c_loop)))
          ;; the c % 4 last channels, one at a time
          (block $t_done (loop $t_loop
            (br_if $t_done (i32.ge_u (local.get $cb) (local.get $cbytes)))
            (local.set $at (i32.add (i32.mul (local.get $q) (local.get $cbytes)) (local.get $cb)))
            (local.set $ys (f32.load (i32.add (local.get $y) (local.get $at))))
            (local.set $ds (f32.load (i32.add (local.get $dy) (local.get $at))))
            (local.set $done (i32.const 0))
            (local.set $i (local.get $i0))
            (block $ti_done (loop $ti_loop
              (br_if $ti_done (i32.or (local.get $done) (i32.ge_s (local.get $i) (local.get $i1))))
              (local.set $row (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $i)) (local.get $w)))
              (local.set $j (local.get $j0))
              (block $tj_done (loop $tj_loop
                (br_if $tj_done (i32.ge_s (local.get $j) (local.get $j1)))
                (local.set $at (i32.add (i32.mul (i32.add (local.get $row) (local.get $j)) (local.get $cbytes)) (local.get $cb)))
                (if (f32.eq (f32.load (i32.add (local.get $x) (local.get $at))) (local.get $ys)) (then
                  (f32.store (i32.add (local.get $dx) (local.get $at))
                    (f32.add (f32.load (i32.add (local.get $dx) (local.get $at))) (local.get $ds)))
                  (local.set $done (i32.const 1))
                  (br $tj_done)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tj_loop)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $ti_loop)))
            (local.set $cb (i32.add (local.get $cb) (i32.const 4)))
            (br $t_loop)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $ow_loop)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $oh_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop)))))
