;; Convolutions for the wasm backend, run in tfjs's heap (the imported memory); pointers
;; are byte offsets, all tensors f32, NHWC activations, HWIO filters (the convolutions
;; read them packed by filter_pack: [O/8, kh, kw, C, 8]). Measured here at
;; ~20-30 GFLOP/s (with fused multiply-adds), against XNNPACK's ~17 (forward) and ~5-9
;; (the filter gradient as a role-swapped convolution). Every kernel keeps a register
;; tile of 4 pixels × 8 channels (8 f32x4 accumulators) over its reduction.
(module
  (import "env" "memory" (memory 0))

  ;; Byte offset of output pixel q (flattened over [n, ho, wo]) 's window origin in x:
  ;; &x[b, oh·s, ow·s, 0] (+ x).
  (func $window (param $x i32) (param $q i32) (param $hw i32) (param $wo i32)
    (param $h i32) (param $w i32) (param $c i32) (param $s i32) (result i32)
    (local $b i32) (local $r i32) (local $oh i32)
    (local.set $b (i32.div_u (local.get $q) (local.get $hw)))
    (local.set $r (i32.sub (local.get $q) (i32.mul (local.get $b) (local.get $hw))))
    (local.set $oh (i32.div_u (local.get $r) (local.get $wo)))
    (i32.add (local.get $x) (i32.shl
      (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.mul (local.get $oh) (local.get $s))) (local.get $w))
                        (i32.mul (i32.sub (local.get $r) (i32.mul (local.get $oh) (local.get $wo))) (local.get $s)))
               (local.get $c))
      (i32.const 2))))

  ;; conv2d_valid: direct convolution, valid padding (pad_dilate pads first):
  ;;   y[b, oh, ow, o] = Σ_{i, j, c} x[b, oh·s + i, ow·s + j, c] · W[i, j, c, o]
  ;; with W packed ($wt = filter_pack's [O/8, kh, kw, C, 8]); requires O % 8 == 0.
  ;; For one window row i both x[.., ow·s + j, c] and the packed W[i, j, c, ob..ob+7] are
  ;; contiguous over (j, c), so the reduction runs kw·C steps per row with one pointer
  ;; step each (a 3x3 conv on 16 channels: 3 loops of 48, not 9 of 16), and the 8
  ;; output channels' weights are 32 consecutive bytes (HWIO rows of O floats sent
  ;; every step to a new cache line: 4x slower on 512 channels). The 4 pixels of a
  ;; tile are consecutive in [n, ho, wo] order (across rows and images, so narrow
  ;; late-stage maps waste nothing); the last tile repeats its last pixel in the
  ;; missing lanes and stores only the real ones.
  (func (export "conv2d_valid")
    (param $x i32) (param $wt i32) (param $y i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $ho i32) (param $wo i32) (param $o i32)
    (param $kh i32) (param $kw i32) (param $s i32)
    (local $hw i32) (local $total i32) (local $q i32) (local $valid i32) (local $ob i32)
    (local $i i32) (local $row i32) (local $cc i32) (local $tap i32) (local $ostride i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $wp i32) (local $yp i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $v v128)
    (local.set $ostride (i32.shl (local.get $o) (i32.const 2)))
    (local.set $row (i32.mul (local.get $kw) (local.get $c)))
    (local.set $hw (i32.mul (local.get $ho) (local.get $wo)))
    (local.set $total (i32.mul (local.get $n) (local.get $hw)))
    (local.set $q (i32.const 0))
    (block $q_done (loop $q_loop
      (br_if $q_done (i32.ge_u (local.get $q) (local.get $total)))
      (local.set $valid (i32.sub (local.get $total) (local.get $q)))
      (if (i32.gt_s (local.get $valid) (i32.const 4)) (then (local.set $valid (i32.const 4))))
      (local.set $b0 (call $window (local.get $x) (local.get $q) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s)))
      (local.set $b1 (local.get $b0)) (local.set $b2 (local.get $b0)) (local.set $b3 (local.get $b0))
      (if (i32.gt_s (local.get $valid) (i32.const 1)) (then (local.set $b1
        (call $window (local.get $x) (i32.add (local.get $q) (i32.const 1)) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s)))))
      (local.set $b2 (local.get $b1)) (local.set $b3 (local.get $b1))
      (if (i32.gt_s (local.get $valid) (i32.const 2)) (then (local.set $b2
        (call $window (local.get $x) (i32.add (local.get $q) (i32.const 2)) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s)))))
      (local.set $b3 (local.get $b2))
      (if (i32.gt_s (local.get $valid) (i32.const 3)) (then (local.set $b3
        (call $window (local.get $x) (i32.add (local.get $q) (i32.const 3)) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s)))))
      (local.set $ob (i32.const 0))
      (block $ob_done (loop $ob_loop
        (br_if $ob_done (i32.ge_u (local.get $ob) (local.get $o)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $a4 (v128.const i32x4 0 0 0 0))
                (local.set $a5 (v128.const i32x4 0 0 0 0))
                (local.set $a6 (v128.const i32x4 0 0 0 0))
                (local.set $a7 (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $i_done (loop $i_loop
          (br_if $i_done (i32.ge_u (local.get $i) (local.get $kh)))
          ;; row i: x at +i·W·C, packed weights &Wp[ob/8, i, 0, 0, 0]
          (local.set $tap (i32.shl (i32.mul (i32.mul (local.get $i) (local.get $w)) (local.get $c)) (i32.const 2)))
          (local.set $p0 (i32.add (local.get $b0) (local.get $tap)))
          (local.set $p1 (i32.add (local.get $b1) (local.get $tap)))
          (local.set $p2 (i32.add (local.get $b2) (local.get $tap)))
          (local.set $p3 (i32.add (local.get $b3) (local.get $tap)))
          (local.set $wp (i32.add (local.get $wt) (i32.shl
            (i32.mul (i32.add (i32.mul (local.get $ob) (local.get $kh)) (i32.shl (local.get $i) (i32.const 3))) (local.get $row))
            (i32.const 2))))
          (local.set $cc (local.get $row))
          (loop $c_loop
            (local.set $w0 (v128.load (local.get $wp)))
            (local.set $w1 (v128.load offset=16 (local.get $wp)))
            (local.set $v (v128.load32_splat (local.get $p0)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (local.get $w0))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (local.get $w1))))
            (local.set $v (v128.load32_splat (local.get $p1)))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (local.get $w0))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (local.get $w1))))
            (local.set $v (v128.load32_splat (local.get $p2)))
            (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $v) (local.get $w0))))
            (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $v) (local.get $w1))))
            (local.set $v (v128.load32_splat (local.get $p3)))
            (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $v) (local.get $w0))))
            (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $v) (local.get $w1))))
            (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
            (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
            (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
            (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
            (local.set $cc (i32.sub (local.get $cc) (i32.const 1)))
            (br_if $c_loop (i32.gt_s (local.get $cc) (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $i_loop)))
        ;; yp = &y[q, ob] (flattened pixels are y's rows)
        (local.set $yp (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $q) (local.get $o)) (local.get $ob)) (i32.const 2))))
        (v128.store (local.get $yp) (local.get $a0))
        (v128.store offset=16 (local.get $yp) (local.get $a1))
        (if (i32.gt_s (local.get $valid) (i32.const 1)) (then
          (local.set $yp (i32.add (local.get $yp) (local.get $ostride)))
          (v128.store (local.get $yp) (local.get $a2))
          (v128.store offset=16 (local.get $yp) (local.get $a3))))
        (if (i32.gt_s (local.get $valid) (i32.const 2)) (then
          (local.set $yp (i32.add (local.get $yp) (local.get $ostride)))
          (v128.store (local.get $yp) (local.get $a4))
          (v128.store offset=16 (local.get $yp) (local.get $a5))))
        (if (i32.gt_s (local.get $valid) (i32.const 3)) (then
          (local.set $yp (i32.add (local.get $yp) (local.get $ostride)))
          (v128.store (local.get $yp) (local.get $a6))
          (v128.store offset=16 (local.get $yp) (local.get $a7))))
        (local.set $ob (i32.add (local.get $ob) (i32.const 8)))
        (br $ob_loop)))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $q_loop))))

  (func (export "pad_dilate")
    (param $src i32) (param $dst i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $s i32) (param $top i32) (param $left i32) (param $hd i32) (param $wd i32)
    (local $b i32) (local $ih i32) (local $iw i32) (local $srow i32) (local $drow i32) (local $px i32)
    (local.set $px (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $dst) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $hd)) (local.get $wd)) (local.get $px)))
    (local.set $b (i32.const 0))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $ih (i32.const 0))
      (block $ih_done (loop $ih_loop
        (br_if $ih_done (i32.ge_u (local.get $ih) (local.get $h)))
        (local.set $srow (i32.add (local.get $src)
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ih)) (local.get $w)) (local.get $px))))
        (local.set $drow (i32.add (local.get $dst)
          (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hd))
                                              (i32.add (local.get $top) (i32.mul (local.get $ih) (local.get $s))))
                                     (local.get $wd))
                            (local.get $left))
                   (local.get $px))))
        (if (i32.eq (local.get $s) (i32.const 1))
          (then (memory.copy (local.get $drow) (local.get $srow) (i32.mul (local.get $w) (local.get $px))))
          (else
            (local.set $iw (i32.const 0))
            (block $iw_done (loop $iw_loop
              (br_if $iw_done (i32.ge_u (local.get $iw) (local.get $w)))
              (memory.copy
                (i32.add (local.get $drow) (i32.mul (i32.mul (local.get $iw) (local.get $s)) (local.get $px)))
                (i32.add (local.get $srow) (i32.mul (local.get $iw) (local.get $px)))
                (local.get $px))
              (local.set $iw (i32.add (local.get $iw) (i32.const 1)))
              (br $iw_loop)))))
        (local.set $ih (i32.add (local.get $ih) (i32.const 1)))
        (br $ih_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop))))

  ;; conv2d_filter_grad (eq. 4 for a conv layer), padding handled in place:
  ;;   dW[i, j, c, o] = Σ_{n, oh, ow} x[n, oh·s + i − p, ow·s + j − p, c] · dy[n, oh, ow, o]
  ;; Requires C % 4 == 0, O % 8 == 0. Tile: 4 input × 8 output channels, reduced over the
  ;; output pixels of a chunk of `chunk` rows [n·ho] (the caller sizes chunks to stay in
  ;; cache) and the columns whose input lies inside x; dW accumulates across chunks.
  (func (export "conv2d_filter_grad")
    (param $x i32) (param $dy i32) (param $dw i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $ho i32) (param $wo i32) (param $o i32)
    (param $kh i32) (param $kw i32) (param $s i32) (param $p i32) (param $chunk i32)
    (local $rows i32) (local $r0 i32) (local $r1 i32) (local $r i32) (local $b i32) (local $oh i32)
    (local $i i32) (local $j i32) (local $ih i32) (local $cb i32) (local $ob i32)
    (local $lo i32) (local $hi i32) (local $k i32) (local $t i32)
    (local $xp i32) (local $dp i32) (local $ap i32) (local $xstep i32) (local $ostride i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $v v128)
    (local $d0 v128) (local $d1 v128)
    (memory.fill (local.get $dw) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (i32.mul (local.get $c) (local.get $o))) (i32.const 2)))
    (local.set $xstep (i32.shl (i32.mul (local.get $s) (local.get $c)) (i32.const 2)))
    (local.set $ostride (i32.shl (local.get $o) (i32.const 2)))
    (local.set $rows (i32.mul (local.get $n) (local.get $ho)))
    (local.set $r0 (i32.const 0))
    (block $chunk_done (loop $chunk_loop
      (br_if $chunk_done (i32.ge_u (local.get $r0) (local.get $rows)))
      (local.set $r1 (i32.add (local.get $r0) (local.get $chunk)))
      (if (i32.gt_u (local.get $r1) (local.get $rows)) (then (local.set $r1 (local.get $rows))))
      (local.set $i (i32.const 0))
      (block $i_done (loop $i_loop
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $kh)))
        (local.set $j (i32.const 0))
        (block $j_done (loop $j_loop
          (br_if $j_done (i32.ge_u (local.get $j) (local.get $kw)))
          ;; valid output columns: 0 ≤ ow·s + j − p < W
          (local.set $t (i32.sub (local.get $p) (local.get $j)))
          (local.set $lo (select (i32.div_s (i32.add (local.get $t) (i32.sub (local.get $s) (i32.const 1))) (local.get $s))
                                 (i32.const 0) (i32.gt_s (local.get $t) (i32.const 0))))
          (local.set $t (i32.add (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $j)) (local.get $p)))
          (local.set $hi (select (i32.add (i32.div_s (local.get $t) (local.get $s)) (i32.const 1))
                                 (i32.const 0) (i32.ge_s (local.get $t) (i32.const 0))))
          (if (i32.gt_s (local.get $hi) (local.get $wo)) (then (local.set $hi (local.get $wo))))
          (if (i32.lt_s (local.get $lo) (local.get $hi)) (then
            (local.set $cb (i32.const 0))
            (block $cb_done (loop $cb_loop
              (br_if $cb_done (i32.ge_u (local.get $cb) (local.get $c)))
              (local.set $ob (i32.const 0))
              (block $ob_done (loop $ob_loop
                (br_if $ob_done (i32.ge_u (local.get $ob) (local.get $o)))
                ;; ap = &dW[i, j, cb, ob]: rows cb..cb+3, 8 floats each
                (local.set $ap (i32.add (local.get $dw) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $c)) (local.get $cb)) (local.get $o)) (local.get $ob))
                  (i32.const 2))))
                (local.set $a0 (v128.load (local.get $ap)))
                (local.set $a1 (v128.load offset=16 (local.get $ap)))
                (local.set $a2 (v128.load (i32.add (local.get $ap) (local.get $ostride))))
                (local.set $a3 (v128.load offset=16 (i32.add (local.get $ap) (local.get $ostride))))
                (local.set $a4 (v128.load (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1)))))
                (local.set $a5 (v128.load offset=16 (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1)))))
                (local.set $a6 (v128.load (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3)))))
                (local.set $a7 (v128.load offset=16 (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3)))))
                ;; rows r of the chunk: b = r / ho, oh = r % ho (stepped, not divided)
                (local.set $b (i32.div_u (local.get $r0) (local.get $ho)))
                (local.set $oh (i32.sub (local.get $r0) (i32.mul (local.get $b) (local.get $ho))))
                (local.set $r (local.get $r0))
                (block $r_done (loop $r_loop
                  (br_if $r_done (i32.ge_u (local.get $r) (local.get $r1)))
                  (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $s)) (local.get $i)) (local.get $p)))
                  (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $h))) (then
                    ;; xp = &x[b, ih, lo·s + j − p, cb];  dp = &dy[b, oh, lo, ob]
                    (local.set $xp (i32.add (local.get $x) (i32.shl
                      (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ih)) (local.get $w))
                                                 (i32.sub (i32.add (i32.mul (local.get $lo) (local.get $s)) (local.get $j)) (local.get $p)))
                                        (local.get $c))
                               (local.get $cb))
                      (i32.const 2))))
                    (local.set $dp (i32.add (local.get $dy) (i32.shl
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $r) (local.get $wo)) (local.get $lo)) (local.get $o)) (local.get $ob))
                      (i32.const 2))))
                    (local.set $k (i32.sub (local.get $hi) (local.get $lo)))
                    (loop $ow_loop
                      (local.set $d0 (v128.load (local.get $dp)))
                      (local.set $d1 (v128.load offset=16 (local.get $dp)))
                      (local.set $v (v128.load32_splat (local.get $xp)))
                      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (local.get $d0))))
                      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (local.get $d1))))
                      (local.set $v (v128.load32_splat offset=4 (local.get $xp)))
                      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (local.get $d0))))
                      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (local.get $d1))))
                      (local.set $v (v128.load32_splat offset=8 (local.get $xp)))
                      (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $v) (local.get $d0))))
                      (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $v) (local.get $d1))))
                      (local.set $v (v128.load32_splat offset=12 (local.get $xp)))
                      (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $v) (local.get $d0))))
                      (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $v) (local.get $d1))))
                      (local.set $xp (i32.add (local.get $xp) (local.get $xstep)))
                      (local.set $dp (i32.add (local.get $dp) (local.get $ostride)))
                      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                      (br_if $ow_loop (i32.gt_s (local.get $k) (i32.const 0))))))
                  (local.set $r (i32.add (local.get $r) (i32.const 1)))
                  (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
                  (if (i32.eq (local.get $oh) (local.get $ho)) (then
                    (local.set $oh (i32.const 0))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))))
                  (br $r_loop)))
                (v128.store (local.get $ap) (local.get $a0))
                (v128.store offset=16 (local.get $ap) (local.get $a1))
                (v128.store (i32.add (local.get $ap) (local.get $ostride)) (local.get $a2))
                (v128.store offset=16 (i32.add (local.get $ap) (local.get $ostride)) (local.get $a3))
                (v128.store (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1))) (local.get $a4))
                (v128.store offset=16 (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1))) (local.get $a5))
                (v128.store (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3))) (local.get $a6))
                (v128.store offset=16 (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3))) (local.get $a7))
                (local.set $ob (i32.add (local.get $ob) (i32.const 8)))
                (br $ob_loop)))
              (local.set $cb (i32.add (local.get $cb) (i32.const 4)))
              (br $cb_loop)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i_loop)))
      (local.set $r0 (local.get $r1))
      (br $chunk_loop))))

  ;; conv2d_input_grad_strided: δ_in of a strided convolution without the dilation's
  ;; zeros (which waste (s²−1)/s² of the multiply-adds): every δ_out pixel adds its
  ;; contribution to the input pixels its window read,
  ;;   dx[b, oh·s + i − p, ow·s + j − p, c] += Σ_o dy[b, oh, ow, o] · R[i, j, o, c]
  ;; with R = Fᵀ per tap (F the rule's feedback kernel), packed by filter_pack (swap, no
  ;; flip: [C/8, kh, kw, O, 8]); requires C % 8 == 0.
  ;; Tile: 4 δ_out pixels consecutive in [n, ho, wo] order × 8 input channels, reduced
  ;; over O, then added into dx where the target lies inside x. Distinct δ_out pixels
  ;; of a tile hit distinct input pixels for a given tap (s ≥ 1).
  (func (export "conv2d_input_grad_strided")
    (param $dy i32) (param $r i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $ho i32) (param $wo i32) (param $o i32)
    (param $kh i32) (param $kw i32) (param $s i32) (param $p i32)
    (local $hw i32) (local $total i32) (local $q i32) (local $valid i32) (local $k i32)
    (local $i i32) (local $j i32) (local $cb i32) (local $oo i32) (local $rp i32) (local $rtap i32)
    (local $taps i32) (local $pix i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32)
    (local $g0 i32) (local $g1 i32) (local $g2 i32) (local $g3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $v v128)
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $w)) (local.get $c)) (i32.const 2)))
    (local.set $taps (i32.mul (local.get $kh) (local.get $kw)))
    (local.set $pix (i32.shl (local.get $o) (i32.const 2)))
    (local.set $hw (i32.mul (local.get $ho) (local.get $wo)))
    (local.set $total (i32.mul (local.get $n) (local.get $hw)))
    (local.set $q (i32.const 0))
    (block $q_done (loop $q_loop
      (br_if $q_done (i32.ge_u (local.get $q) (local.get $total)))
      (local.set $valid (i32.sub (local.get $total) (local.get $q)))
      (if (i32.gt_s (local.get $valid) (i32.const 4)) (then (local.set $valid (i32.const 4))))
      (local.set $i (i32.const 0))
      (block $i_done (loop $i_loop
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $kh)))
        (local.set $j (i32.const 0))
        (block $j_done (loop $j_loop
          (br_if $j_done (i32.ge_u (local.get $j) (local.get $kw)))
          (local.set $t0 (call $target (i32.add (local.get $q) (i32.const 0)) (i32.gt_s (local.get $valid) (i32.const 0))
            (local.get $dx) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s) (local.get $p) (local.get $i) (local.get $j)))
          (local.set $t1 (call $target (i32.add (local.get $q) (i32.const 1)) (i32.gt_s (local.get $valid) (i32.const 1))
            (local.get $dx) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s) (local.get $p) (local.get $i) (local.get $j)))
          (local.set $t2 (call $target (i32.add (local.get $q) (i32.const 2)) (i32.gt_s (local.get $valid) (i32.const 2))
            (local.get $dx) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s) (local.get $p) (local.get $i) (local.get $j)))
          (local.set $t3 (call $target (i32.add (local.get $q) (i32.const 3)) (i32.gt_s (local.get $valid) (i32.const 3))
            (local.get $dx) (local.get $hw) (local.get $wo) (local.get $h) (local.get $w) (local.get $c) (local.get $s) (local.get $p) (local.get $i) (local.get $j)))
          (if (i32.or (i32.or (i32.ge_s (local.get $t0) (i32.const 0)) (i32.ge_s (local.get $t1) (i32.const 0)))
                      (i32.or (i32.ge_s (local.get $t2) (i32.const 0)) (i32.ge_s (local.get $t3) (i32.const 0)))) (then
            ;; rtap = tap (i, j) of the packed R's first block; the tile's δ_out pixels p_k = &dy[min(q + k, last)]
            (local.set $rtap (i32.add (local.get $r) (i32.shl
              (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $o))
              (i32.const 5))))
            (local.set $cb (i32.const 0))
            (block $cb_done (loop $cb_loop
              (br_if $cb_done (i32.ge_u (local.get $cb) (local.get $c)))
                  (local.set $a0 (v128.const i32x4 0 0 0 0))
                  (local.set $a1 (v128.const i32x4 0 0 0 0))
                  (local.set $a2 (v128.const i32x4 0 0 0 0))
                  (local.set $a3 (v128.const i32x4 0 0 0 0))
                  (local.set $a4 (v128.const i32x4 0 0 0 0))
                  (local.set $a5 (v128.const i32x4 0 0 0 0))
                  (local.set $a6 (v128.const i32x4 0 0 0 0))
                  (local.set $a7 (v128.const i32x4 0 0 0 0))
              (local.set $p0 (i32.add (local.get $dy) (i32.mul (local.get $q) (local.get $pix))))
              (local.set $p1 (select (i32.add (local.get $p0) (local.get $pix)) (local.get $p0) (i32.gt_s (local.get $valid) (i32.const 1))))
              (local.set $p2 (select (i32.add (local.get $p1) (local.get $pix)) (local.get $p1) (i32.gt_s (local.get $valid) (i32.const 2))))
              (local.set $p3 (select (i32.add (local.get $p2) (local.get $pix)) (local.get $p2) (i32.gt_s (local.get $valid) (i32.const 3))))
              ;; rp = &Rp[cb/8, i, j, 0, 0]
              (local.set $rp (i32.add (local.get $rtap) (i32.shl (i32.mul (i32.mul (local.get $cb) (local.get $taps)) (local.get $o)) (i32.const 2))))
              (local.set $oo (local.get $o))
              (loop $o_loop
                (local.set $w0 (v128.load (local.get $rp)))
                (local.set $w1 (v128.load offset=16 (local.get $rp)))
                (local.set $v (v128.load32_splat (local.get $p0)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (local.get $w0))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (local.get $w1))))
                (local.set $v (v128.load32_splat (local.get $p1)))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (local.get $w0))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (local.get $w1))))
                (local.set $v (v128.load32_splat (local.get $p2)))
                (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $v) (local.get $w0))))
                (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $v) (local.get $w1))))
                (local.set $v (v128.load32_splat (local.get $p3)))
                (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $v) (local.get $w0))))
                (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $v) (local.get $w1))))
                (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
                (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
                (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
                (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
                (local.set $rp (i32.add (local.get $rp) (i32.const 32)))
                (local.set $oo (i32.sub (local.get $oo) (i32.const 1)))
                (br_if $o_loop (i32.gt_s (local.get $oo) (i32.const 0))))
              (local.set $g0 (i32.add (local.get $t0) (i32.shl (local.get $cb) (i32.const 2))))
              (if (i32.ge_s (local.get $t0) (i32.const 0)) (then
                (v128.store (local.get $g0) (f32x4.add (v128.load (local.get $g0)) (local.get $a0)))
                (v128.store offset=16 (local.get $g0) (f32x4.add (v128.load offset=16 (local.get $g0)) (local.get $a1)))))
              (local.set $g1 (i32.add (local.get $t1) (i32.shl (local.get $cb) (i32.const 2))))
              (if (i32.ge_s (local.get $t1) (i32.const 0)) (then
                (v128.store (local.get $g1) (f32x4.add (v128.load (local.get $g1)) (local.get $a2)))
                (v128.store offset=16 (local.get $g1) (f32x4.add (v128.load offset=16 (local.get $g1)) (local.get $a3)))))
              (local.set $g2 (i32.add (local.get $t2) (i32.shl (local.get $cb) (i32.const 2))))
              (if (i32.ge_s (local.get $t2) (i32.const 0)) (then
                (v128.store (local.get $g2) (f32x4.add (v128.load (local.get $g2)) (local.get $a4)))
                (v128.store offset=16 (local.get $g2) (f32x4.add (v128.load offset=16 (local.get $g2)) (local.get $a5)))))
              (local.set $g3 (i32.add (local.get $t3) (i32.shl (local.get $cb) (i32.const 2))))
              (if (i32.ge_s (local.get $t3) (i32.const 0)) (then
                (v128.store (local.get $g3) (f32x4.add (v128.load (local.get $g3)) (local.get $a6)))
                (v128.store offset=16 (local.get $g3) (f32x4.add (v128.load offset=16 (local.get $g3)) (local.get $a7)))))
              (local.set $cb (i32.add (local.get $cb) (i32.const 8)))
              (br $cb_loop)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i_loop)))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $q_loop))))

  ;; &dx[b, oh·s + i − p, ow·s + j − p, 0] for δ_out pixel q (flattened [n, ho, wo]),
  ;; or −1 when the pixel is not real (`real` = 0) or the target lies outside x.
  (func $target (param $q i32) (param $real i32) (param $dx i32) (param $hw i32) (param $wo i32)
    (param $h i32) (param $w i32) (param $c i32) (param $s i32) (param $p i32) (param $i i32) (param $j i32)
    (result i32)
    (local $b i32) (local $r i32) (local $oh i32) (local $ih i32) (local $iw i32)
    (if (i32.eqz (local.get $real)) (then (return (i32.const -1))))
    (local.set $b (i32.div_u (local.get $q) (local.get $hw)))
    (local.set $r (i32.sub (local.get $q) (i32.mul (local.get $b) (local.get $hw))))
    (local.set $oh (i32.div_u (local.get $r) (local.get $wo)))
    (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $s)) (local.get $i)) (local.get $p)))
    (local.set $iw (i32.sub (i32.add (i32.mul (i32.sub (local.get $r) (i32.mul (local.get $oh) (local.get $wo))) (local.get $s)) (local.get $j)) (local.get $p)))
    (if (i32.or (i32.or (i32.lt_s (local.get $ih) (i32.const 0)) (i32.ge_s (local.get $ih) (local.get $h)))
                (i32.or (i32.lt_s (local.get $iw) (i32.const 0)) (i32.ge_s (local.get $iw) (local.get $w))))
      (then (return (i32.const -1))))
    (i32.add (local.get $dx) (i32.shl
      (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ih)) (local.get $w)) (local.get $iw)) (local.get $c))
      (i32.const 2))))

  ;; filter_pack: the packed layout the convolutions read, dst[g/8, t, k, g % 8] =
  ;; G[t, k, g] over the rows×cols taps t = (ti, tj) of a window at (top, left) of a
  ;; kernel kw wide: G = src[top + ti', left + tj'] (HWIO, [kh, kw, C, O]) with
  ;; (ti', tj') = (ti, tj), or rotated 180° within the window for flip = 1; swap = 1
  ;; swaps its channels (G[t, o, c] = src[.., c, o]: the input gradient's kernel). G's
  ;; last axis must be a multiple of 8. The window crops taps that meet only padding.
  (func (export "filter_pack") (param $src i32) (param $dst i32) (param $kw i32) (param $c i32) (param $o i32)
    (param $flip i32) (param $swap i32) (param $top i32) (param $left i32) (param $rows i32) (param $cols i32)
    (local $gk i32) (local $gn i32) (local $blk i32) (local $t i32) (local $ts i32) (local $k i32)
    (local $l i32) (local $sp i32) (local $dp i32) (local $ostride i32) (local $taps i32) (local $ti i32) (local $tj i32)
    (local.set $ostride (i32.shl (local.get $o) (i32.const 2)))
    (local.set $taps (i32.mul (local.get $rows) (local.get $cols)))
    (local.set $gk (select (local.get $o) (local.get $c) (local.get $swap)))
    (local.set $gn (select (local.get $c) (local.get $o) (local.get $swap)))
    (local.set $dp (local.get $dst))
    (local.set $blk (i32.const 0))
    (block $blk_done (loop $blk_loop
      (br_if $blk_done (i32.ge_u (local.get $blk) (local.get $gn)))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_u (local.get $t) (local.get $taps)))
        (local.set $ti (i32.div_u (local.get $t) (local.get $cols)))
        (local.set $tj (i32.sub (local.get $t) (i32.mul (local.get $ti) (local.get $cols))))
        (if (local.get $flip) (then
          (local.set $ti (i32.sub (i32.sub (local.get $rows) (i32.const 1)) (local.get $ti)))
          (local.set $tj (i32.sub (i32.sub (local.get $cols) (i32.const 1)) (local.get $tj)))))
        (local.set $ts (i32.add (i32.mul (i32.add (local.get $top) (local.get $ti)) (local.get $kw))
                                (i32.add (local.get $left) (local.get $tj))))
        (local.set $k (i32.const 0))
        (block $k_done (loop $k_loop
          (br_if $k_done (i32.ge_u (local.get $k) (local.get $gk)))
          (if (local.get $swap)
            (then
              ;; G[t, k, blk + l] = src[ts, blk + l, k]: 8 floats O apart
              (local.set $sp (i32.add (local.get $src) (i32.shl
                (i32.add (i32.mul (i32.add (i32.mul (local.get $ts) (local.get $c)) (local.get $blk)) (local.get $o)) (local.get $k))
                (i32.const 2))))
              (local.set $l (i32.const 0))
              (block $l_done (loop $l_loop
                (br_if $l_done (i32.ge_u (local.get $l) (i32.const 8)))
                (f32.store (i32.add (local.get $dp) (i32.shl (local.get $l) (i32.const 2))) (f32.load (local.get $sp)))
                (local.set $sp (i32.add (local.get $sp) (local.get $ostride)))
                (local.set $l (i32.add (local.get $l) (i32.const 1)))
                (br $l_loop))))
            (else
              ;; G[t, k, blk..blk+7] = src[ts, k, blk..blk+7]
              (local.set $sp (i32.add (local.get $src) (i32.shl
                (i32.add (i32.mul (i32.add (i32.mul (local.get $ts) (local.get $c)) (local.get $k)) (local.get $o)) (local.get $blk))
                (i32.const 2))))
              (v128.store (local.get $dp) (v128.load (local.get $sp)))
              (v128.store offset=16 (local.get $dp) (v128.load offset=16 (local.get $sp)))))
          (local.set $dp (i32.add (local.get $dp) (i32.const 32)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $k_loop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $t_loop)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 8)))
      (br $blk_loop))))

  ;; filter_swap_io: dst[t, o, c] = src[flip ? T−1−t : t, c, o] over the T = kh·kw taps:
  ;; a filter with its input/output channels swapped, and for flip = 1 rotated 180°
  ;; (the input gradient's kernel). Blocks of 16 input channels keep the 16 source rows
  ;; being read in cache while each destination row is written contiguously.
  (func (export "filter_swap_io") (param $src i32) (param $dst i32) (param $taps i32) (param $c i32) (param $o i32) (param $flip i32)
    (local $t i32) (local $ts i32) (local $cb i32) (local $ce i32) (local $oo i32) (local $cc i32) (local $sp i32) (local $dp i32) (local $ostride i32)
    (local.set $ostride (i32.shl (local.get $o) (i32.const 2)))
    (local.set $t (i32.const 0))
    (block $t_done (loop $t_loop
      (br_if $t_done (i32.ge_u (local.get $t) (local.get $taps)))
      (local.set $ts (select (i32.sub (i32.sub (local.get $taps) (i32.const 1)) (local.get $t)) (local.get $t) (local.get $flip)))
      (local.set $cb (i32.const 0))
      (block $cb_done (loop $cb_loop
        (br_if $cb_done (i32.ge_u (local.get $cb) (local.get $c)))
        (local.set $ce (i32.add (local.get $cb) (i32.const 16)))
        (if (i32.gt_u (local.get $ce) (local.get $c)) (then (local.set $ce (local.get $c))))
        (local.set $oo (i32.const 0))
        (block $o_done (loop $o_loop
          (br_if $o_done (i32.ge_u (local.get $oo) (local.get $o)))
          ;; sp = &src[ts, cb, oo], dp = &dst[t, oo, cb]
          (local.set $sp (i32.add (local.get $src) (i32.shl
            (i32.add (i32.mul (i32.add (i32.mul (local.get $ts) (local.get $c)) (local.get $cb)) (local.get $o)) (local.get $oo)) (i32.const 2))))
          (local.set $dp (i32.add (local.get $dst) (i32.shl
            (i32.add (i32.mul (i32.add (i32.mul (local.get $t) (local.get $o)) (local.get $oo)) (local.get $c)) (local.get $cb)) (i32.const 2))))
          (local.set $cc (local.get $cb))
          (block $c_done (loop $c_loop
            (br_if $c_done (i32.ge_u (local.get $cc) (local.get $ce)))
            (f32.store (local.get $dp) (f32.load (local.get $sp)))
            (local.set $sp (i32.add (local.get $sp) (local.get $ostride)))
            (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
            (local.set $cc (i32.add (local.get $cc) (i32.const 1)))
            (br $c_loop)))
          (local.set $oo (i32.add (local.get $oo) (i32.const 1)))
          (br $o_loop)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cb_loop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $t_loop))))

  ;; conv2d_filter_grad_packed: the same dW, for many channels or stride 2 (direct
  ;; reads of x and dy rows then use 16-32 of every 64 bytes fetched; measured 1.1-1.7x
  ;; faster there, 15 % slower on 16 channels at stride 1). Only the taps (i, j) in
  ;; [lo, lo + kc)² are computed (kc = 0: all; see croppedTaps), the others are 0.
  ;; The output rows [n·ho] go in chunks of `chunk` rows; each chunk is first packed
  ;; into `scratch` (fg_pack_x, fg_pack_dy) so that the reduction reads consecutive
  ;; bytes: x per block of 4 channels, one row of the window per output row and tap
  ;; row, zero-padded; dy per block of 8 channels. Tile: 4 input × 8 output channels
  ;; (8 f32x4 accumulators) per tap, reduced over the chunk's pixels; dW accumulates
  ;; across chunks.
  (func (export "conv2d_filter_grad_packed")
    (param $x i32) (param $dy i32) (param $dw i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $ho i32) (param $wo i32) (param $o i32)
    (param $kh i32) (param $kw i32) (param $s i32) (param $p i32) (param $chunk i32)
    (param $scratch i32) (param $lo i32) (param $kc i32)
    (local $rows i32) (local $r0 i32) (local $nr i32) (local $ilo i32) (local $ki i32) (local $jlo i32) (local $kj i32)
    (local $wp i32) (local $dyp i32) (local $xblk i32) (local $dblk i32) (local $rowstep i32) (local $xstep i32)
    (local $cb i32) (local $ob i32) (local $ii i32) (local $jj i32) (local $rr i32) (local $k i32)
    (local $ap i32) (local $xr i32) (local $xq i32) (local $dq i32) (local $ostride i32) (local $xb i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $v v128) (local $d0 v128) (local $d1 v128)
    (memory.fill (local.get $dw) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (i32.mul (local.get $c) (local.get $o))) (i32.const 2)))
    ;; the tap window
    (local.set $ilo (i32.const 0)) (local.set $ki (local.get $kh))
    (local.set $jlo (i32.const 0)) (local.set $kj (local.get $kw))
    (if (local.get $kc) (then
      (local.set $ilo (local.get $lo)) (local.set $ki (local.get $kc))
      (local.set $jlo (local.get $lo)) (local.set $kj (local.get $kc))))
    ;; packed row width: columns ow·s + jj for jj < kj
    (local.set $wp (i32.add (i32.mul (i32.sub (local.get $wo) (i32.const 1)) (local.get $s)) (local.get $kj)))
    (local.set $ostride (i32.shl (local.get $o) (i32.const 2)))
    (local.set $xstep (i32.shl (local.get $s) (i32.const 4)))
    (local.set $rowstep (i32.shl (i32.mul (local.get $ki) (local.get $wp)) (i32.const 4)))
    (local.set $rows (i32.mul (local.get $n) (local.get $ho)))
    (local.set $r0 (i32.const 0))
    (block $chunk_done (loop $chunk_loop
      (br_if $chunk_done (i32.ge_u (local.get $r0) (local.get $rows)))
      (local.set $nr (i32.sub (local.get $rows) (local.get $r0)))
      (if (i32.gt_u (local.get $nr) (local.get $chunk)) (then (local.set $nr (local.get $chunk))))
      ;; x block of 4 channels: nr·ki·wp pixels × 16 bytes; dy after all x blocks
      (local.set $xblk (i32.mul (local.get $nr) (local.get $rowstep)))
      (local.set $dyp (i32.add (local.get $scratch) (i32.mul (local.get $xblk) (i32.shr_u (local.get $c) (i32.const 2)))))
      (local.set $dblk (i32.shl (i32.mul (local.get $nr) (local.get $wo)) (i32.const 5)))
      (call $fg_pack_x (local.get $x) (local.get $scratch) (local.get $r0) (local.get $nr) (local.get $h) (local.get $w) (local.get $c)
        (local.get $ho) (local.get $s) (local.get $p) (local.get $ilo) (local.get $ki) (local.get $jlo) (local.get $wp) (local.get $xblk))
      (call $fg_pack_dy (i32.add (local.get $dy) (i32.mul (i32.mul (local.get $r0) (local.get $wo)) (local.get $ostride)))
        (local.get $dyp) (i32.mul (local.get $nr) (local.get $wo)) (local.get $o) (local.get $dblk))
      (local.set $cb (i32.const 0))
      (local.set $xb (local.get $scratch))
      (block $cb_done (loop $cb_loop
        (br_if $cb_done (i32.ge_u (local.get $cb) (local.get $c)))
        (local.set $ob (i32.const 0))
        (block $ob_done (loop $ob_loop
          (br_if $ob_done (i32.ge_u (local.get $ob) (local.get $o)))
          (local.set $ii (i32.const 0))
          (block $ii_done (loop $ii_loop
            (br_if $ii_done (i32.ge_u (local.get $ii) (local.get $ki)))
            (local.set $jj (i32.const 0))
            (block $jj_done (loop $jj_loop
              (br_if $jj_done (i32.ge_u (local.get $jj) (local.get $kj)))
              ;; ap = &dW[ilo + ii, jlo + jj, cb, ob]: rows cb..cb+3, 8 floats each
              (local.set $ap (i32.add (local.get $dw) (i32.shl
                (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (i32.add (local.get $ilo) (local.get $ii)) (local.get $kw))
                                                             (i32.add (local.get $jlo) (local.get $jj)))
                                                    (local.get $c)) (local.get $cb))
                                  (local.get $o))
                         (local.get $ob))
                (i32.const 2))))
              (local.set $a0 (v128.load (local.get $ap)))
              (local.set $a1 (v128.load offset=16 (local.get $ap)))
              (local.set $a2 (v128.load (i32.add (local.get $ap) (local.get $ostride))))
              (local.set $a3 (v128.load offset=16 (i32.add (local.get $ap) (local.get $ostride))))
              (local.set $a4 (v128.load (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1)))))
              (local.set $a5 (v128.load offset=16 (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1)))))
              (local.set $a6 (v128.load (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3)))))
              (local.set $a7 (v128.load offset=16 (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3)))))
              (local.set $xr (i32.add (local.get $xb) (i32.shl (i32.add (i32.mul (local.get $ii) (local.get $wp)) (local.get $jj)) (i32.const 4))))
              (local.set $dq (i32.add (local.get $dyp) (i32.mul (i32.shr_u (local.get $ob) (i32.const 3)) (local.get $dblk))))
              (local.set $rr (local.get $nr))
              (loop $rr_loop
                (local.set $xq (local.get $xr))
                (local.set $k (local.get $wo))
                (loop $ow_loop
                  (local.set $d0 (v128.load (local.get $dq)))
                  (local.set $d1 (v128.load offset=16 (local.get $dq)))
                  (local.set $v (v128.load32_splat (local.get $xq)))
                  (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (local.get $d0))))
                  (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (local.get $d1))))
                  (local.set $v (v128.load32_splat offset=4 (local.get $xq)))
                  (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (local.get $d0))))
                  (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (local.get $d1))))
                  (local.set $v (v128.load32_splat offset=8 (local.get $xq)))
                  (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $v) (local.get $d0))))
                  (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $v) (local.get $d1))))
                  (local.set $v (v128.load32_splat offset=12 (local.get $xq)))
                  (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $v) (local.get $d0))))
                  (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $v) (local.get $d1))))
                  (local.set $xq (i32.add (local.get $xq) (local.get $xstep)))
                  (local.set $dq (i32.add (local.get $dq) (i32.const 32)))
                  (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                  (br_if $ow_loop (i32.gt_s (local.get $k) (i32.const 0))))
                (local.set $xr (i32.add (local.get $xr) (local.get $rowstep)))
                (local.set $rr (i32.sub (local.get $rr) (i32.const 1)))
                (br_if $rr_loop (i32.gt_s (local.get $rr) (i32.const 0))))
              (v128.store (local.get $ap) (local.get $a0))
              (v128.store offset=16 (local.get $ap) (local.get $a1))
              (v128.store (i32.add (local.get $ap) (local.get $ostride)) (local.get $a2))
              (v128.store offset=16 (i32.add (local.get $ap) (local.get $ostride)) (local.get $a3))
              (v128.store (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1))) (local.get $a4))
              (v128.store offset=16 (i32.add (local.get $ap) (i32.shl (local.get $ostride) (i32.const 1))) (local.get $a5))
              (v128.store (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3))) (local.get $a6))
              (v128.store offset=16 (i32.add (local.get $ap) (i32.mul (local.get $ostride) (i32.const 3))) (local.get $a7))
              (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
              (br $jj_loop)))
            (local.set $ii (i32.add (local.get $ii) (i32.const 1)))
            (br $ii_loop)))
          (local.set $ob (i32.add (local.get $ob) (i32.const 8)))
          (br $ob_loop)))
        (local.set $xb (i32.add (local.get $xb) (local.get $xblk)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 4)))
        (br $cb_loop)))
      (local.set $r0 (i32.add (local.get $r0) (local.get $nr)))
      (br $chunk_loop))))

  ;; x rows of output rows [r0, r0 + nr) for conv2d_filter_grad_packed: block cb4 (stride xblk
  ;; bytes) holds, per output row rr and tap row ii < ki, wp pixels of 4 channels: the
  ;; pixel u is x[b, oh·s + ilo + ii − p, u + jlo − p, 4·cb4 .. +3], 0 outside x.
  (func $fg_pack_x (param $x i32) (param $dst i32) (param $r0 i32) (param $nr i32)
    (param $h i32) (param $w i32) (param $c i32) (param $ho i32) (param $s i32) (param $p i32)
    (param $ilo i32) (param $ki i32) (param $jlo i32) (param $wp i32) (param $xblk i32)
    (local $rr i32) (local $r i32) (local $b i32) (local $oh i32) (local $ii i32) (local $ih i32)
    (local $u i32) (local $iw i32) (local $src i32) (local $d i32) (local $k i32) (local $inside i32)
    (local.set $d (local.get $dst))
    (local.set $rr (i32.const 0))
    (block $rr_done (loop $rr_loop
      (br_if $rr_done (i32.ge_u (local.get $rr) (local.get $nr)))
      (local.set $r (i32.add (local.get $r0) (local.get $rr)))
      (local.set $b (i32.div_u (local.get $r) (local.get $ho)))
      (local.set $oh (i32.sub (local.get $r) (i32.mul (local.get $b) (local.get $ho))))
      (local.set $ii (i32.const 0))
      (block $ii_done (loop $ii_loop
        (br_if $ii_done (i32.ge_u (local.get $ii) (local.get $ki)))
        (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $s)) (i32.add (local.get $ilo) (local.get $ii))) (local.get $p)))
        (local.set $u (i32.const 0))
        (block $u_done (loop $u_loop
          (br_if $u_done (i32.ge_u (local.get $u) (local.get $wp)))
          (local.set $iw (i32.sub (i32.add (local.get $u) (local.get $jlo)) (local.get $p)))
          (local.set $inside (i32.and
            (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $h)))
            (i32.and (i32.ge_s (local.get $iw) (i32.const 0)) (i32.lt_s (local.get $iw) (local.get $w)))))
          (local.set $src (i32.add (local.get $x) (i32.shl
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ih)) (local.get $w)) (local.get $iw)) (local.get $c))
            (i32.const 2))))
          ;; this pixel's 4-channel groups go to the blocks, xblk bytes apart
          (local.set $k (i32.const 0))
          (block $k_done (loop $k_loop
            (br_if $k_done (i32.ge_u (local.get $k) (local.get $c)))
            (v128.store (i32.add (local.get $d) (i32.mul (i32.shr_u (local.get $k) (i32.const 2)) (local.get $xblk)))
              (if (result v128) (local.get $inside)
                (then (v128.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))))
                (else (v128.const i32x4 0 0 0 0))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $k_loop)))
          (local.set $d (i32.add (local.get $d) (i32.const 16)))
          (local.set $u (i32.add (local.get $u) (i32.const 1)))
          (br $u_loop)))
        (local.set $ii (i32.add (local.get $ii) (i32.const 1)))
        (br $ii_loop)))
      (local.set $rr (i32.add (local.get $rr) (i32.const 1)))
      (br $rr_loop))))

  ;; dy pixels [0, count) (o channels each) into blocks of 8 channels, dblk bytes apart.
  (func $fg_pack_dy (param $dy i32) (param $dst i32) (param $count i32) (param $o i32) (param $dblk i32)
    (local $q i32) (local $k i32) (local $src i32) (local $d i32)
    (local.set $src (local.get $dy))
    (local.set $d (local.get $dst))
    (local.set $q (i32.const 0))
    (block $q_done (loop $q_loop
      (br_if $q_done (i32.ge_u (local.get $q) (local.get $count)))
      (local.set $k (i32.const 0))
      (block $k_done (loop $k_loop
        (br_if $k_done (i32.ge_u (local.get $k) (local.get $o)))
        (v128.store (i32.add (local.get $d) (i32.mul (i32.shr_u (local.get $k) (i32.const 3)) (local.get $dblk)))
          (v128.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))))
        (v128.store offset=16 (i32.add (local.get $d) (i32.mul (i32.shr_u (local.get $k) (i32.const 3)) (local.get $dblk)))
          (v128.load offset=16 (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $k (i32.add (local.get $k) (i32.const 8)))
        (br $k_loop)))
      (local.set $src (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2))))
      (local.set $d (i32.add (local.get $d) (i32.const 32)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $q_loop))))
)
