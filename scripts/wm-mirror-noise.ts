/**
 * WM's mirror estimate against the mirror batch (analysis, not a test): from a run's
 * config and seeded initialisation, `--steps` mirror-mode steps (Alg. 1, eq. 21) at each
 * `--batch` size, then per layer the matrix angle ∠(B, W) and ‖B‖/‖W‖. B's covariance is
 * averaged over batch × output positions pairs per weight, so the angle's tangent should
 * fall as 1/sqrt(batch); the last columns give tan(∠) at each batch over tan(∠) at the
 * first, beside sqrt(first/batch). With λ_WM 0.5 the initial random B is gone to 0.5^steps.
 *
 *   node --import tsx scripts/wm-mirror-noise.ts runs/<study>/<wm run> [--batch 64,256,1024] [--steps 12]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { angleDeg, openRunStack, runConfig } from './run-stack.js';
import { norm, table } from './stats.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { batch: { type: 'string', default: '64,256,1024' }, steps: { type: 'string', default: '12' } },
});
const dir = path.resolve(positionals[0] ?? '');
const config = runConfig(dir);
if (config.rule.name !== 'wm') throw new Error(`${dir}: rule ${config.rule.name}, not wm`);
const batches = o.batch.split(',').map(Number);
const steps = Number(o.steps);

/** Per layer: [angle°, ‖B‖/‖W‖] after `steps` mirror steps at mirror batch `n`. */
async function mirrored(n: number): Promise<Map<string, [number, number]>> {
  const cfg = structuredClone(config);
  cfg.rule.wm.mirror_batch_size = n;
  cfg.rule.wm.b_scale = 'none';
  const { loader, trainer } = await openRunStack(dir, cfg);
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) trainer.mirrorStep();
  const state = trainer.getState().tensors;
  const out = new Map<string, [number, number]>();
  for (const k of Object.keys(state).filter((k) => k.endsWith('/B'))) {
    const l = k.slice(0, -2);
    if (!state[`${l}/W`]) continue;
    const W = (await state[`${l}/W`].data()) as Float32Array;
    const B = (await state[k].data()) as Float32Array;
    out.set(l, [angleDeg(B, W), norm(B) / norm(W)]);
  }
  tf.dispose(Object.values(state));
  trainer.dispose();
  await loader.close();
  process.stderr.write(
    `mirror batch ${n}: ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  return out;
}

const results: Map<string, [number, number]>[] = [];
for (const n of batches) results.push(await mirrored(n));
const tan = (d: number) => Math.tan((d * Math.PI) / 180);
const rows = [...results[0].keys()].map((l) => [
  l,
  ...results.map((r) => (r.get(l)?.[0] ?? Number.NaN).toFixed(1)),
  ...results.map((r) => (r.get(l)?.[1] ?? Number.NaN).toFixed(3)),
  ...results
    .slice(1)
    .map((r) => (tan(r.get(l)?.[0] ?? Number.NaN) / tan(results[0].get(l)?.[0] ?? Number.NaN)).toFixed(2)),
]);
const head = [
  'layer',
  ...batches.map((n) => `∠ at ${n}`),
  ...batches.map((n) => `‖B‖/‖W‖ at ${n}`),
  ...batches
    .slice(1)
    .map((n) => `tan ratio ${n}/${batches[0]} (1/sqrt: ${Math.sqrt(batches[0] / n).toFixed(2)})`),
];
process.stdout.write(
  `${path.relative(process.cwd(), dir)}: ${steps} mirror steps from the seeded initialisation (η_B ${config.rule.wm.eta_b}, λ_WM ${config.rule.wm.lambda_wm})\n\n${table(head, rows)}\n`,
);
