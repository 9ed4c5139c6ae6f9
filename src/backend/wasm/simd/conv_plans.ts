/**
 * The three convolutions of a training step as plans over conv2d.wat's functions, at
 * the level of byte offsets, so one plan runs on any heap: the tfjs wasm backend's
 * (main thread) or a worker thread's shared memory (threads/), over any slice of
 * the batch. Each plan says what it reads, what it writes and how much scratch it
 * needs per batch row, and which calls compute `count` rows:
 *   forward      y = conv(x, W)      pad_dilate, then conv2d_valid (or Winograd: conv2d_wino)
 *   input grad   δ_in = conv(δ_out padded by k−1−p, rot180(F)ᵀ)   (eq. 3; stride 1)
 *                δ_in[window of δ_out pixel] += Fᵀ δ_out            (eq. 3; stride > 1)
 *   filter grad  ΔW = Σ x ⋆ δ_out  (eq. 4)   conv2d_filter_grad (padding handled in
 *                place) or conv2d_filter_grad_packed (chunks packed into scratch)
 */
import { convOutSize } from '../../ops/conv2d.js';
import type { ConvExports } from './index.js';

export interface Call {
  fn: keyof ConvExports;
  args: number[];
}

/** Byte offsets of one part's data. */
export interface PartAt {
  inputs: number[];
  out: number;
  scratch: number;
}

export interface ConvPlan {
  /** Rows of the batch (axis 0 of every split input, and of a concatenated result). */
  rows: number;
  /** Per input: floats per batch row when split over the batch, else its whole size. */
  inputs: Array<{ split: boolean; floats: number }>;
  /** Result: floats per batch row, concatenated; or a total, summed over the parts. */
  out: { combine: 'concat' | 'sum'; floats: number };
  scratchPerRow: number;
  /** Scratch floats a part needs besides its per-row scratch. */
  scratchFixed?: number;
  /** Multiply-adds per batch row (decides whether splitting pays). */
  macsPerRow: number;
  calls(count: number, at: PartAt): Call[];
}

/** The geometry of one convolution: x [n, h, w, c], filter [kh, kw, c, o], y [n, ho, wo, o]. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  o: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

/**
 * Taps of a k×k kernel that never meet a real pixel of an h×w input (on tiny late-stage
 * maps: a 3x3 conv with padding 1 on 1x1 maps uses only its centre) can be cropped: the
 * same convolution with the taps [lo, k − lo) and padding p − lo. Returns that crop
 * when it is symmetric and saves taps, else null.
 */
export function croppedTaps(
  h: number,
  w: number,
  k: number,
  stride: number,
  pad: number,
): { lo: number; k: number; pad: number } | null {
  const range = (size: number) => {
    const out = convOutSize(size, k, stride, pad);
    // tap i meets a real pixel iff 0 ≤ oh·s + i − p < size for some output row oh
    return [Math.max(0, pad - (out - 1) * stride), Math.min(k - 1, size - 1 + pad)];
  };
  const [[lo, hi], [loW, hiW]] = [range(h), range(w)];
  if (lo === 0 || lo !== loW || hi !== hiW || hi !== k - 1 - lo) return null;
  return { lo, k: k - 2 * lo, pad: pad - lo };
}

const outSize = (size: number, k: number, g: ConvGeometry) => convOutSize(size, k, g.stride, g.pad);

/**
 * A convolution of a padded input, as the forward and the stride-1 input gradient
 * are: src [count, h, w, cin] placed at (top, left) in zeros of [hd, wd] (pad_dilate),
 * then a valid kh×kw convolution at stride s to [ho, wo, cout] with a filter packed by
 * filter_pack. 3x3 at stride 1 on 32+ input channels and maps of 4x4 or more runs as
 * Winograd F(2x2, 3x3) (filter_wino + conv2d_wino: 1.1-1.8x the direct kernel there,
 * scripts/bench-kernels; on 16 channels or 2x2 maps it was slower), else conv2d_valid.
 */
interface PaddedConv {
  h: number;
  w: number;
  cin: number;
  top: number;
  left: number;
  hd: number;
  wd: number;
  ho: number;
  wo: number;
  cout: number;
  kh: number;
  kw: number;
  s: number;
}

/** Winograd's tiles per block: its V and M buffers (16·tb·(cin + cout) floats) up to ~1 MB. */
const WINO_BLOCK_FLOATS = 262144;

export function usesWinograd(v: PaddedConv): boolean {
  return v.kh === 3 && v.kw === 3 && v.s === 1 && v.cin >= 32 && v.cin % 4 === 0 && Math.min(v.ho, v.wo) >= 4;
}

function paddedConv(v: PaddedConv, wino = usesWinograd(v)) {
  const padded = v.top > 0 || v.left > 0 || v.hd !== v.h || v.wd !== v.w;
  if (wino) {
    // Every 4x4 input tile of 2x2 outputs inside the padded input.
    const [hd, wd] = [2 * Math.ceil(v.ho / 2) + 2, 2 * Math.ceil(v.wo / 2) + 2];
    const perRow = hd * wd * v.cin;
    const uFloats = 16 * v.cin * v.cout;
    const tb = Math.max(4, Math.min(64, Math.floor(WINO_BLOCK_FLOATS / (16 * Math.max(v.cin, v.cout))) & ~3));
    return {
      perRow,
      fixed: uFloats + 16 * tb * (v.cin + v.cout),
      calls: (count: number, src: number, filter: number, out: number, scratch: number): Call[] => {
        const u = scratch + count * perRow * 4;
        return [
          { fn: 'pad_dilate', args: [src, scratch, count, v.h, v.w, v.cin, 1, v.top, v.left, hd, wd] },
          { fn: 'filter_wino', args: [filter, u, v.cin, v.cout] },
          {
            fn: 'conv2d_wino',
            args: [scratch, u, out, count, hd, wd, v.cin, v.ho, v.wo, v.cout, tb, u + uFloats * 4],
          },
        ];
      },
    };
  }
  return {
    perRow: padded ? v.hd * v.wd * v.cin : 0,
    fixed: 0,
    calls: (count: number, src: number, filter: number, out: number, scratch: number): Call[] => {
      const conv = (x: number): Call => ({
        fn: 'conv2d_valid',
        args: [x, filter, out, count, v.hd, v.wd, v.cin, v.ho, v.wo, v.cout, v.kh, v.kw, v.s],
      });
      if (!padded) return [conv(src)];
      const pad: Call = {
        fn: 'pad_dilate',
        args: [src, scratch, count, v.h, v.w, v.cin, 1, v.top, v.left, v.hd, v.wd],
      };
      return [pad, conv(scratch)];
    },
  };
}

/** y = conv(x, W), inputs [x, W packed by filter_pack]; needs o % 8 == 0. `wino` forces a kernel (benchmarks). */
export function forwardPlan(g: ConvGeometry, wino?: boolean): ConvPlan {
  const { h, w, c, o, kh, kw, stride: s, pad: p } = g;
  const [ho, wo] = [outSize(h, kh, g), outSize(w, kw, g)];
  const v = { h, w, cin: c, top: p, left: p, hd: h + 2 * p, wd: w + 2 * p, ho, wo, cout: o, kh, kw, s };
  const conv = paddedConv(v, wino);
  return {
    rows: g.n,
    inputs: [
      { split: true, floats: h * w * c },
      { split: false, floats: kh * kw * c * o },
    ],
    out: { combine: 'concat', floats: ho * wo * o },
    scratchPerRow: conv.perRow,
    scratchFixed: conv.fixed,
    macsPerRow: ho * wo * o * kh * kw * c,
    calls: (count, at) => conv.calls(count, at.inputs[0], at.inputs[1], at.out, at.scratch),
  };
}

/**
 * δ_in, inputs [dy, G], G packed (filter_pack, swap); needs c % 8 == 0 and p ≤ k − 1.
 * Stride 1: G = rot180(F) with its channels swapped, convolved over dy padded by
 * k − 1 − p. Stride s > 1: G = F with its channels swapped (no rotation), each δ_out
 * pixel added to the input pixels its window read (conv2d_input_grad_strided):
 * dilating dy by s first would spend (s² − 1)/s² of the multiply-adds on zeros.
 */
export function inputGradPlan(g: ConvGeometry, wino?: boolean): ConvPlan {
  const { h, w, c, o, kh, kw, stride: s, pad: p } = g;
  const [ho, wo] = [outSize(h, kh, g), outSize(w, kw, g)];
  const common = {
    rows: g.n,
    inputs: [
      { split: true, floats: ho * wo * o },
      { split: false, floats: kh * kw * c * o },
    ],
    out: { combine: 'concat' as const, floats: h * w * c },
    macsPerRow: ho * wo * o * kh * kw * c,
  };
  if (s > 1)
    return {
      ...common,
      scratchPerRow: 0,
      calls: (count, at) => [
        {
          fn: 'conv2d_input_grad_strided',
          args: [at.inputs[0], at.inputs[1], at.out, count, h, w, c, ho, wo, o, kh, kw, s, p],
        },
      ],
    };
  // dy's last row lands at (kh−1−p) + (ho−1) ≤ h + kh − 2, inside the padded height.
  const [top, left] = [kh - 1 - p, kw - 1 - p];
  const v = {
    h: ho,
    w: wo,
    cin: o,
    top,
    left,
    hd: h + kh - 1,
    wd: w + kw - 1,
    ho: h,
    wo: w,
    cout: c,
    kh,
    kw,
    s: 1,
  };
  const conv = paddedConv(v, wino);
  return {
    ...common,
    scratchPerRow: conv.perRow,
    scratchFixed: conv.fixed,
    calls: (count, at) => conv.calls(count, at.inputs[0], at.inputs[1], at.out, at.scratch),
  };
}

/**
 * A chunk of the direct filter gradient: output rows whose x and dy fit ~24 KB (L1),
 * but at least 64 output pixels, so that each 4x8 tile's accumulators, loaded and
 * stored once per chunk, serve enough multiply-adds. Measured against 96 KB chunks
 * (scripts/bench-kernels --chunks 24:64,96:0): 5-15 % faster on ResNet-20's layers.
 */
export const FILTER_GRAD_CHUNK = { bytes: 24 * 1024, minPixels: 64 };
/** Output pixels per chunk of the packed filter gradient (best of 64-256 measured). */
const PACKED_CHUNK_PIXELS = 256;

/**
 * ΔW, inputs [x, dy]; needs c % 4 == 0 and o % 8 == 0. Direct (conv2d_filter_grad)
 * for 1x1 kernels and for fewer than 32 channels at stride 1, else packed
 * (conv2d_filter_grad_packed, which copies each chunk of x and dy into consecutive
 * blocks first: it pays where direct reads would use 16-32 of every 64 bytes fetched);
 * `kernel` forces one (benchmarks).
 */
export function filterGradPlan(
  g: ConvGeometry,
  opts: { chunking?: typeof FILTER_GRAD_CHUNK; kernel?: 'direct' | 'packed' } = {},
): ConvPlan {
  const { h, w, c, o, kh, kw, stride: s, pad: p } = g;
  const [ho, wo] = [outSize(h, kh, g), outSize(w, kw, g)];
  const kernel = opts.kernel ?? (kh * kw > 1 && (c >= 32 || s > 1) ? 'packed' : 'direct');
  const common = {
    rows: g.n,
    inputs: [
      { split: true, floats: h * w * c },
      { split: true, floats: ho * wo * o },
    ],
    out: { combine: 'sum' as const, floats: kh * kw * c * o },
    scratchPerRow: 0,
    macsPerRow: ho * wo * o * kh * kw * c,
  };
  if (kernel === 'packed') {
    const crop = kh === kw ? croppedTaps(h, w, kh, s, p) : null;
    const [ki, kj] = crop ? [crop.k, crop.k] : [kh, kw];
    // Per output row: ki window rows of (wo − 1)·s + kj pixels of x, and wo pixels of dy.
    const rowFloats = c * ki * ((wo - 1) * s + kj) + wo * o;
    const chunk = Math.min(g.n * ho, Math.ceil(PACKED_CHUNK_PIXELS / wo));
    return {
      ...common,
      macsPerRow: ho * wo * o * ki * kj * c,
      scratchFixed: chunk * rowFloats,
      calls: (count, at) => [
        {
          fn: 'conv2d_filter_grad_packed',
          args: [
            at.inputs[0],
            at.inputs[1],
            at.out,
            count,
            h,
            w,
            c,
            ho,
            wo,
            o,
            kh,
            kw,
            s,
            p,
            chunk,
            at.scratch,
            crop?.lo ?? 0,
            crop?.k ?? 0,
          ],
        },
      ],
    };
  }
  const chunking = opts.chunking ?? FILTER_GRAD_CHUNK;
  // Output rows per chunk: each reads ~s rows of x and one row of dy.
  const chunk = Math.max(
    1,
    Math.floor(chunking.bytes / ((s * w * c + wo * o) * 4)),
    Math.ceil(chunking.minPixels / wo),
  );
  return {
    ...common,
    calls: (count, at) => [
      {
        fn: 'conv2d_filter_grad',
        args: [at.inputs[0], at.inputs[1], at.out, count, h, w, c, ho, wo, o, kh, kw, s, p, chunk],
      },
    ],
  };
}

/** Scratch floats for a part of `count` rows. */
export function scratchFloats(plan: ConvPlan, count: number): number {
  return count * plan.scratchPerRow + (plan.scratchFixed ?? 0);
}

export function runCalls(conv: ConvExports, calls: Call[]): void {
  for (const { fn, args } of calls) (conv[fn] as (...a: number[]) => void)(...args);
}

/** Byte offset of part rows starting at `row` of an input or a concatenated result. */
export function rowOffset(base: number, floatsPerRow: number, row: number): number {
  return base + row * floatsPerRow * 4;
}

/** The calling thread's side of a plan: its heap, the tensors' offsets, parts run in place. */
export interface MainSide {
  heap(): ArrayBuffer;
  inputs: number[];
  out: number;
  /** Run rows [start, start + count) here, writing the result at `out` (default: the result tensor). */
  runPart(start: number, count: number, out?: number): void;
  alloc(bytes: number): number;
  free(ptr: number): void;
}
