;; Sign-symmetry's feedback weights in one pass (src/rules/ss.ts):
;;   out[i] = sign(w[i]) · m        (sign_scale: one magnitude m per layer)
;;   out[i] = sign(w[i]) · m[i]     (sign_times: a magnitude per weight)
;; with sign(0) = 0, as tf.sign.
(module
  (import "env" "memory" (memory 0))
  ;; sign(w) · mag for one f32x4: (w > 0) & mag | (w < 0) & −mag
  (func $signed (param $w v128) (param $mag v128) (result v128)
    (v128.or
      (v128.and (f32x4.gt (local.get $w) (v128.const f32x4 0 0 0 0)) (local.get $mag))
      (v128.and (f32x4.lt (local.get $w) (v128.const f32x4 0 0 0 0)) (f32x4.neg (local.get $mag)))))
  (func (export "sign_scale") (param $w i32) (param $out i32) (param $n i32) (param $m f32)
    (call $sign_into (local.get $w) (i32.const 0) (local.get $out) (local.get $n) (local.get $m) (i32.const 0)))
  (func (export "sign_times") (param $w i32) (param $mag i32) (param $out i32) (param $n i32)
    (call $sign_into (local.get $w) (local.get $mag) (local.get $out) (local.get $n) (f32.const 0) (i32.const 1)))
  ;; per_weight = 0: magnitude m everywhere; 1: magnitudes read at mag.
  (func $sign_into (param $w i32) (param $mag i32) (param $out i32) (param $n i32) (param $m f32) (param $per_weight i32)
    (local $at i32) (local $end i32) (local $vm v128) (local $pad i32)
    (local.set $vm (f32x4.splat (local.get $m)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    ;; whole f32x4s, then the last n % 4 one at a time
    (local.set $pad (i32.and (local.get $end) (i32.const -16)))
    (local.set $at (i32.const 0))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $at) (local.get $pad)))
      (if (local.get $per_weight) (then (local.set $vm (v128.load (i32.add (local.get $mag) (local.get $at))))))
      (v128.store (i32.add (local.get $out) (local.get $at))
        (call $signed (v128.load (i32.add (local.get $w) (local.get $at))) (local.get $vm)))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $loop)))
    (block $tail_done (loop $tail
      (br_if $tail_done (i32.ge_u (local.get $at) (local.get $end)))
      (if (local.get $per_weight) (then (local.set $vm (v128.load32_splat (i32.add (local.get $mag) (local.get $at))))))
      (f32.store (i32.add (local.get $out) (local.get $at))
        (f32x4.extract_lane 0 (call $signed (v128.load32_splat (i32.add (local.get $w) (local.get $at))) (local.get $vm))))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $tail)))))
