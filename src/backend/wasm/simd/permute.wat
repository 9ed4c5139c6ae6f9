;; Two tensor permutes for wtrain on tfjs's wasm backend (tfjs's own Transpose copies
;; one element at a time); see permute.ts. Like batch_norm.wat, the module imports
;; tfjs's wasm memory and takes byte offsets into it. Elements are 4 bytes, copied as
;; bits. Every size must be ≥ 1. Tensor strides in ResNets are large powers of 2,
;; which map every row of a tile to the same cache set: both kernels keep the number
;; of lines live at such strides small (a tile of rows finishes its lines quickly).
;;
;; Compiled by scripts/build-wasm.mjs into modules.generated.ts (`npm run build:wasm`).
(module
  (import "env" "memory" (memory 1))

  ;; Rows i of a transpose_cba tile: two 64-byte lines of each destination row
  ;; (16 and 64 measured slower on ResNet-20 shapes).
  (global $IT i32 (i32.const 32))
  ;; Rows i per swap_rows tile (2 to 32 measured: 4 and 8 best).
  (global $SW i32 (i32.const 4))
  ;; Scratch transpose_cba needs (JS allocates it): IT rows of ≤ 256 floats.
  (global (export "scratch_bytes") i32 (i32.const 16384))

  ;; Copy `rows` runs of `bytes` bytes: src + r·ss → dst + r·ds.
  (func $copy_rows (param $src i32) (param $ss i32) (param $dst i32) (param $ds i32) (param $rows i32)
    (param $bytes i32)
    (local $vb i32) (local $t i32)
    (local.set $vb (i32.and (local.get $bytes) (i32.const -16)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $t (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $t) (local.get $vb)))
            (v128.store (i32.add (local.get $dst) (local.get $t))
              (v128.load (i32.add (local.get $src) (local.get $t))))
            (local.set $t (i32.add (local.get $t) (i32.const 16)))
            (br $vec)))
        (block $sdone
          (loop $tail
            (br_if $sdone (i32.ge_u (local.get $t) (local.get $bytes)))
            (i32.store (i32.add (local.get $dst) (local.get $t))
              (i32.load (i32.add (local.get $src) (local.get $t))))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $tail)))
        (local.set $src (i32.add (local.get $src) (local.get $ss)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; Element by element, dst + c·ds + 4r ← src + r·ss + 4c for r in [r0, r1), c in [c0, c1):
  ;; the edges $transpose_block's 4×4 blocks leave.
  (func $transpose_edge (param $src i32) (param $ss i32) (param $dst i32) (param $ds i32)
    (param $r0 i32) (param $r1 i32) (param $c0 i32) (param $c1 i32)
    (local $r i32) (local $c i32)
    (local.set $r (local.get $r0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $c (local.get $c0))
        (block $cdone
          (loop $cols
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $c1)))
            (i32.store
              (i32.add (local.get $dst) (i32.add (i32.mul (local.get $c) (local.get $ds))
                (i32.shl (local.get $r) (i32.const 2))))
              (i32.load
                (i32.add (local.get $src) (i32.add (i32.mul (local.get $r) (local.get $ss))
                  (i32.shl (local.get $c) (i32.const 2))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cols)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Transpose a rows × cols block (row strides ss, ds in bytes): dst[c][r] = src[r][c].
  ;; 4 rows × 4 columns are loaded as 4 vectors, transposed in registers by 8 shuffles
  ;; and stored as 4 vectors. Columns outermost: each destination row is finished
  ;; before the next 4 begin.
  (func $transpose_block (param $src i32) (param $ss i32) (param $dst i32) (param $ds i32)
    (param $rows i32) (param $cols i32)
    (local $r4 i32) (local $c4 i32) (local $r i32) (local $c i32) (local $p i32) (local $q i32)
    (local $ss2 i32) (local $ss3 i32) (local $ds2 i32) (local $ds3 i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $ss2 (i32.shl (local.get $ss) (i32.const 1)))
    (local.set $ss3 (i32.add (local.get $ss2) (local.get $ss)))
    (local.set $ds2 (i32.shl (local.get $ds) (i32.const 1)))
    (local.set $ds3 (i32.add (local.get $ds2) (local.get $ds)))
    (block $cdone
      (loop $cols
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $c4)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $q (i32.add (local.get $dst) (i32.mul (local.get $c) (local.get $ds))))
        (local.set $r (i32.const 0))
        (block $rdone
          (loop $rows
            (br_if $rdone (i32.ge_u (local.get $r) (local.get $r4)))
            ;; rows a, b, c, d (r .. r+3), columns c .. c+3
            (local.set $v0 (v128.load (local.get $p)))
            (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $ss))))
            (local.set $v2 (v128.load (i32.add (local.get $p) (local.get $ss2))))
            (local.set $v3 (v128.load (i32.add (local.get $p) (local.get $ss3))))
            ;; t0 = a0 b0 a1 b1, t1 = c0 d0 c1 d1, t2 = a2 b2 a3 b3, t3 = c2 d2 c3 d3
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
              (local.get $v0) (local.get $v1)))
            (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
              (local.get $v2) (local.get $v3)))
            (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $v0) (local.get $v1)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $v2) (local.get $v3)))
            ;; column c+k of the 4 rows = a_k b_k c_k d_k
            (v128.store (local.get $q) (i8x16.shuffle
              0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
            (v128.store (i32.add (local.get $q) (local.get $ds)) (i8x16.shuffle
              8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
            (v128.store (i32.add (local.get $q) (local.get $ds2)) (i8x16.shuffle
              0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
            (v128.store (i32.add (local.get $q) (local.get $ds3)) (i8x16.shuffle
              8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
            (local.set $p (i32.add (local.get $p) (i32.shl (local.get $ss) (i32.const 2))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $rows)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $cols)))
    (call $transpose_edge (local.get $src) (local.get $ss) (local.get $dst) (local.get $ds)
      (local.get $r4) (local.get $rows) (i32.const 0) (local.get $c4))
    (call $transpose_edge (local.get $src) (local.get $ss) (local.get $dst) (local.get $ds)
      (i32.const 0) (local.get $rows) (local.get $c4) (local.get $cols)))

  ;; [A, B, C] → [C, B, A]: dst[k, j, i] = src[i, j, k]; with B = 1 a matrix transpose.
  ;; Tiles of IT rows i × (jn·kn ≤ 256) contiguous source floats (jn values of j, kn of
  ;; k) are copied to `buf` (row by row: long sequential reads), then transposed out of
  ;; it, so neither side touches more than a few lines at large power-of-2 strides.
  (func (export "transpose_cba") (param $src i32) (param $dst i32) (param $na i32) (param $nb i32)
    (param $nc i32) (param $buf i32)
    (local $rs i32) (local $ds i32) (local $kt i32) (local $jt i32)
    (local $i0 i32) (local $j0 i32) (local $k0 i32) (local $rows i32) (local $jn i32) (local $kn i32)
    (local $jj i32) (local $lb i32)
    (local.set $rs (i32.shl (i32.mul (local.get $nb) (local.get $nc)) (i32.const 2)))
    (local.set $ds (i32.shl (i32.mul (local.get $nb) (local.get $na)) (i32.const 2)))
    ;; A buffer row holds 4096/IT floats: kt of k (all of k when it fits, then jt of j)
    (local.set $kt (i32.div_u (i32.const 4096) (global.get $IT)))
    (local.set $jt (i32.const 1))
    (if (i32.le_u (local.get $nc) (local.get $kt))
      (then
        (local.set $jt (i32.div_u (local.get $kt) (local.get $nc)))
        (local.set $kt (local.get $nc))))
    (block $idone
      (loop $is
        (br_if $idone (i32.ge_u (local.get $i0) (local.get $na)))
        (local.set $rows (i32.sub (local.get $na) (local.get $i0)))
        (if (i32.gt_u (local.get $rows) (global.get $IT)) (then (local.set $rows (global.get $IT))))
        (local.set $j0 (i32.const 0))
        (block $jdone
          (loop $js
            (br_if $jdone (i32.ge_u (local.get $j0) (local.get $nb)))
            (local.set $jn (i32.sub (local.get $nb) (local.get $j0)))
            (if (i32.gt_u (local.get $jn) (local.get $jt)) (then (local.set $jn (local.get $jt))))
            (local.set $k0 (i32.const 0))
            (block $kdone
              (loop $ks
                (br_if $kdone (i32.ge_u (local.get $k0) (local.get $nc)))
                (local.set $kn (i32.sub (local.get $nc) (local.get $k0)))
                (if (i32.gt_u (local.get $kn) (local.get $kt)) (then (local.set $kn (local.get $kt))))
                ;; buf[r] = src[i0 + r, j0 .. j0+jn, k0 .. k0+kn] (contiguous: jn = 1 or kn = nc)
                (local.set $lb (i32.shl (i32.mul (local.get $jn) (local.get $kn)) (i32.const 2)))
                (call $copy_rows
                  (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (i32.add
                    (i32.mul (local.get $i0) (local.get $nb)) (local.get $j0)) (local.get $nc))
                    (local.get $k0)) (i32.const 2)))
                  (local.get $rs) (local.get $buf) (local.get $lb) (local.get $rows) (local.get $lb))
                ;; dst[k0 .. k0+kn, j0 + jj, i0 .. i0+rows] = buf[:, jj, :]ᵀ
                (local.set $jj (i32.const 0))
                (loop $jjs
                  (call $transpose_block
                    (i32.add (local.get $buf) (i32.shl (i32.mul (local.get $jj) (local.get $kn)) (i32.const 2)))
                    (local.get $lb)
                    (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (i32.add
                      (i32.mul (local.get $k0) (local.get $nb)) (i32.add (local.get $j0) (local.get $jj)))
                      (local.get $na)) (local.get $i0)) (i32.const 2)))
                    (local.get $ds) (local.get $rows) (local.get $kn))
                  (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                  (br_if $jjs (i32.lt_u (local.get $jj) (local.get $jn))))
                (local.set $k0 (i32.add (local.get $k0) (local.get $kn)))
                (br $ks)))
            (local.set $j0 (i32.add (local.get $j0) (local.get $jn)))
            (br $js)))
        (local.set $i0 (i32.add (local.get $i0) (local.get $rows)))
        (br $is))))

  ;; [A, B, R] → [B, A, R]: dst[j, i, :] = src[i, j, :], rows of R elements. For a
  ;; tile of SW values of i, j sweeps all of B: the tile's source rows are read
  ;; sequentially (few enough to share a cache set at a power-of-2 stride) and each
  ;; destination run dst[j, i0 .. i0+SW, :] is written in order.
  (func (export "swap_rows") (param $src i32) (param $dst i32) (param $na i32) (param $nb i32)
    (param $r i32)
    (local $rb i32) (local $i0 i32) (local $rows i32) (local $j i32)
    (local.set $rb (i32.shl (local.get $r) (i32.const 2)))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_u (local.get $i0) (local.get $na)))
        (local.set $rows (i32.sub (local.get $na) (local.get $i0)))
        (if (i32.gt_u (local.get $rows) (global.get $SW)) (then (local.set $rows (global.get $SW))))
        (local.set $j (i32.const 0))
        (loop $js
          ;; src[i0 .. i0+rows, j, :] → dst[j, i0 .. i0+rows, :]
          (call $copy_rows
            (i32.add (local.get $src) (i32.mul
              (i32.add (i32.mul (local.get $i0) (local.get $nb)) (local.get $j)) (local.get $rb)))
            (i32.mul (local.get $nb) (local.get $rb))
            (i32.add (local.get $dst) (i32.mul
              (i32.add (i32.mul (local.get $j) (local.get $na)) (local.get $i0)) (local.get $rb)))
            (local.get $rb) (local.get $rows) (local.get $rb))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $js (i32.lt_u (local.get $j) (local.get $nb))))
        (local.set $i0 (i32.add (local.get $i0) (local.get $rows)))
        (br $tiles))))
)
