;; ReLU's backward in one pass: dx[i] = dy[i] where y[i] > 0, else 0 (y = relu(x), the
;; φ'(y) factor of eq. 3), instead of tfjs's Step then Multiply.
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
      (br $tail)))))
