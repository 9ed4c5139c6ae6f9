/**
 * Kernel benchmark: the SIMD convolutions (src/backend/wasm/simd/conv2d.wat, fused
 * multiply-adds where the runtime has them) on the layer shapes of ResNet-20 (batch
 * 128) and ResNet-18 (batch 64) at 32x32, on one thread, without tfjs: ms and
 * GMAC/s per layer for the forward, the input gradient and the filter gradient, by
 * each kernel the layer can use (direct or Winograd; direct or packed, the direct one
 * per chunking given; `*` marks the one the plan picks). All variants of a layer run
 * interleaved, call by call, so a machine whose speed drifts (shared hosts) biases none.
 *
 *   scripts/bench-kernels [--reps 9] [--nets resnet20,resnet18] [--chunks 24:64,96:0]
 *
 * --chunks: chunkings of the direct filter gradient, KiB of x and dy : minimum pixels.
 * MACs count every tap of the direct method (also those cropped because they only meet
 * padding; Winograd's GMAC/s are effective).
 */
import { parseArgs } from 'node:util';
import { convOutSize } from '../src/backend/ops/conv2d.js';
import {
  type ConvGeometry,
  type ConvPlan,
  FILTER_GRAD_CHUNK,
  filterGradPlan,
  forwardPlan,
  inputGradPlan,
  scratchFloats,
} from '../src/backend/wasm/simd/conv_plans.js';
import { kernelHarness } from './kernel-harness.js';
import { median } from './stats.js';

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '9' },
    nets: { type: 'string', default: 'resnet20,resnet18' },
    chunks: {
      type: 'string',
      default: `${FILTER_GRAD_CHUNK.bytes / 1024}:${FILTER_GRAD_CHUNK.minPixels},96:0`,
    },
  },
});

/**
 * [batch, [h, c, o, k, stride]] of each distinct 3x3 layer (ResNet-20: and a 1x1
 * shortcut; ResNet-18's stem and pool take 32x32 to 8x8).
 */
const NETS: Record<string, [number, number[][]]> = {
  resnet20: [
    128,
    [
      [32, 16, 16, 3, 1],
      [32, 16, 32, 3, 2],
      [16, 32, 32, 3, 1],
      [16, 32, 64, 3, 2],
      [8, 64, 64, 3, 1],
      [32, 16, 32, 1, 2],
    ],
  ],
  resnet18: [
    64,
    [
      [8, 64, 64, 3, 1],
      [8, 64, 128, 3, 2],
      [4, 128, 128, 3, 1],
      [4, 128, 256, 3, 2],
      [2, 256, 256, 3, 1],
      [2, 256, 512, 3, 2],
      [1, 512, 512, 3, 1],
    ],
  ],
};

const { conv, layout, fill, runner } = kernelHarness();
const reps = Number(args.reps);
const chunkings = args.chunks.split(',').map((v) => {
  const [kb, px = '0'] = v.split(':');
  return { name: `dW direct ${v}`, bytes: Number(kb) * 1024, minPixels: Number(px) };
});

for (const net of args.nets.split(',')) {
  const [n, layers] = NETS[net];
  console.log(`\n${net}, batch ${n}: ms (GMAC/s), median of ${reps}`);
  for (const [h, c, o, k, s] of layers) {
    const p = (k - 1) >> 1;
    const g: ConvGeometry = { n, h, w: h, c, o, kh: k, kw: k, stride: s, pad: p };
    const ho = convOutSize(h, k, s, p);
    // Each kernel a layer can use, '*' on the one its plan picks.
    const wino = k === 3 && s === 1;
    type Variant = { name: string; plan: ConvPlan; at: () => number[]; prepare?: () => void };
    const fwdVariants: Variant[] = [{ name: 'fwd direct', plan: forwardPlan(g, false), at: () => [X, P, Y] }];
    if (wino && c % 4 === 0)
      fwdVariants.push({ name: 'fwd wino', plan: forwardPlan(g, true), at: () => [X, P, Y] });
    const dxVariants: Variant[] = [
      { name: 'dx direct', plan: inputGradPlan(g, false), at: () => [Y, P, DX] },
    ];
    if (wino) dxVariants.push({ name: 'dx wino', plan: inputGradPlan(g, true), at: () => [Y, P, DX] });
    for (const v of fwdVariants) v.prepare = () => conv.filter_pack(W, P, k, c, o, 0, 0, 0, 0, k, k);
    for (const v of dxVariants) v.prepare = () => conv.filter_pack(W, P, k, c, o, +(s === 1), 1, 0, 0, k, k);
    const dwVariants: Variant[] = [
      ...chunkings.map((chunking) => ({
        name: chunking.name,
        plan: filterGradPlan(g, { chunking, kernel: 'direct' }),
        at: () => [X, Y, DW],
      })),
      { name: 'dW packed', plan: filterGradPlan(g, { kernel: 'packed' }), at: () => [X, Y, DW] },
    ];
    const fnsOf = (plan: ConvPlan) =>
      plan
        .calls(1, { inputs: [0, 0], out: 0, scratch: 0 })
        .map((call) => call.fn)
        .join();
    for (const [picked, list] of [
      [forwardPlan(g), fwdVariants],
      [inputGradPlan(g), dxVariants],
      [filterGradPlan(g), dwVariants],
    ] as const) {
      const hit = list.find((v) => fnsOf(v.plan) === fnsOf(picked));
      if (hit) hit.name += '*';
    }
    const all = [...fwdVariants, ...dxVariants, ...dwVariants];
    const scratch = Math.max(...all.map((v) => scratchFloats(v.plan, n)));
    const [X, W, P, Y, DX, DW, S] = layout([
      n * h * h * c,
      k * k * c * o,
      k * k * c * o,
      n * ho * ho * o,
      n * h * h * c,
      k * k * c * o,
      scratch,
    ]);
    fill(X, n * h * h * c, 1);
    fill(W, k * k * c * o, 2);
    fill(Y, n * ho * ho * o, 3);
    const variants = all.map((v): [string, () => void, () => void] => {
      const [a, b, out] = v.at();
      return [v.name, v.prepare ?? (() => {}), runner(v.plan, [a, b], out, S)];
    });
    const times = variants.map(() => [] as number[]);
    for (let r = 0; r <= reps; r++)
      variants.forEach(([, prepare, run], i) => {
        prepare();
        const t = performance.now();
        run();
        if (r > 0) times[i].push(performance.now() - t);
      });
    const macs = n * ho * ho * o * k * k * c;
    const cells = variants.map(([name], i) => {
      const ms = median(times[i]);
      return `${name} ${ms.toFixed(1)} (${(macs / ms / 1e6).toFixed(1)})`;
    });
    console.log(`  ${h}x${h}x${c}->${o} k${k} s${s}`.padEnd(26), cells.join('  '));
  }
}
