;; ReLU's backward in one pass: dx[i] = dy[i] where y[i] > 0, else 0 (y = relu(x), the
;; φ'(y) factor of eq. 3), instead of tfjs's Step then Multiply; and WM's centred mirror
;; output relu(z) − its batch mean in two passes (relu_centre).
(module
  (import "env" "memory" (memory 0))
  (func (export "relu_grad") (param $dy i32) (param $y i32) (param $dx i32) (param $n i32)
    (local $at i32) (local $end i32) (local $whole i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $whole (i32.and (local.get $end) (i32.const -16)))
    (local.set $at (i32.const 0))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $at) (local.get $whole)))
      (v128.store (i32.add (local.get $dx) (local.get $at))
        (v128.and (v128.load (i32.add (local.get $dy) (local.get $at)))
                  (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $at))) (v128.const f32x4 0 0 0 0))))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $loop)))
    (block $tail_done (loop $tail
      (br_if $tail_done (i32.ge_u (local.get $at) (local.get $end)))
      (f32.store (i32.add (local.get $dx) (local.get $at))
        (select (f32.load (i32.add (local.get $dy) (local.get $at))) (f32.const 0)
                (f32.gt (f32.load (i32.add (local.get $y) (local.get $at))) (f32.const 0))))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $tail))))

  ;; out[r, f] = relu(z[r, f]) − (1/rows)·Σ_r' relu(z[r', f]) over rows × feats (feats % 4 == 0):
  ;; WM's y − ȳ (Alg. 1) without the relu, mean and subtract tensors. Row 0 of out holds
  ;; the mean until it is written last.
  (func (export "relu_centre") (param $z i32) (param $out i32) (param $rows i32) (param $feats i32)
    (local $r i32) (local $f i32) (local $fb i32) (local $row i32) (local $zero v128) (local $inv v128)
    (local.set $fb (i32.shl (local.get $feats) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $fb))
    (local.set $r (i32.const 0))
    (block $sum_done (loop $sum_loop
      (br_if $sum_done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $row (i32.add (local.get $z) (i32.mul (local.get $r) (local.get $fb))))
      (local.set $f (i32.const 0))
      (block $f_done (loop $f_loop
        (br_if $f_done (i32.ge_u (local.get $f) (local.get $fb)))
        (v128.store (i32.add (local.get $out) (local.get $f))
          (f32x4.add (v128.load (i32.add (local.get $out) (local.get $f)))
                     (f32x4.max (v128.load (i32.add (local.get $row) (local.get $f))) (local.get $zero))))
        (local.set $f (i32.add (local.get $f) (i32.const 16)))
        (br $f_loop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $sum_loop)))
    (local.set $inv (f32x4.splat (f32.div (f32.const 1) (f32.convert_i32_u (local.get $rows)))))
    (local.set $f (i32.const 0))
    (block $m_done (loop $m_loop
      (br_if $m_done (i32.ge_u (local.get $f) (local.get $fb)))
      (v128.store (i32.add (local.get $out) (local.get $f))
        (f32x4.mul (v128.load (i32.add (local.get $out) (local.get $f))) (local.get $inv)))
      (local.set $f (i32.add (local.get $f) (i32.const 16)))
      (br $m_loop)))
    ;; rows − 1 down to 0, so that row 0 (the mean) is read before it is overwritten
    (local.set $r (local.get $rows))
    (block $c_done (loop $c_loop
      (br_if $c_done (i32.eqz (local.get $r)))
      (local.set $r (i32.sub (local.get $r) (i32.const 1)))
      (local.set $row (i32.mul (local.get $r) (local.get $fb)))
      (local.set $f (i32.const 0))
      (block $g_done (loop $g_loop
        (br_if $g_done (i32.ge_u (local.get $f) (local.get $fb)))
        (v128.store (i32.add (i32.add (local.get $out) (local.get $row)) (local.get $f))
          (f32x4.sub (f32x4.max (v128.load (i32.add (i32.add (local.get $z) (local.get $row)) (local.get $f))) (local.get $zero))
                     (v128.load (i32.add (local.get $out) (local.get $f)))))
        (local.set $f (i32.add (local.get $f) (i32.const 16)))
        (br $g_loop)))
      (br $c_loop))))
)
