/**
 * How far a rule's weight updates are from backprop's gradient (analysis, not a test): at a
 * run's checkpoint, on `--batches` training batches of its first epoch, the rule's gradient
 * of every conv/fc weight (eq. 3's δ ⊗ input, what the optimiser is given; KP's B update
 * left out) beside the true gradient of the same network (rule bp). Per layer: the mean
 * angle on one batch, the angle of the sums over all batches (the direction the weights
 * drift in, batch noise averaged out), ‖rule‖/‖bp‖ of the sums and the sum's component along
 * bp's over ‖bp‖ (= ‖rule‖ cos∠ / ‖bp‖: the step along the true gradient relative to bp's). The logged δ angles
 * (Figure 4b) compare δ over every example and position; this is what reaches the weights.
 *
 *   node --import tsx scripts/update-angles.ts runs/<study>/<run> [--checkpoint FILE] [--batches 8]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { readCheckpointFile } from '../src/runner/checkpoint-format.js';
import { CheckpointStore, restoreTrainer } from '../src/runner/checkpoints.js';
import { runPaths } from '../src/runner/rundir.js';
import { NetworkTrainer } from '../src/train/trainer.js';
import { angleDeg, openRunStack, runConfig } from './run-stack.js';
import { norm, table } from './stats.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { checkpoint: { type: 'string' }, batches: { type: 'string', default: '8' } },
});
const dir = path.resolve(positionals[0] ?? '');
const config = runConfig(dir);
const file = o.checkpoint ?? new CheckpointStore(runPaths(dir).checkpoints).latest();
if (!file) throw new Error(`${dir}: no checkpoint`);
const ckpt = readCheckpointFile(file);
const nBatches = Number(o.batches);

/** Per weight: the gradient on each batch, under `rule` (the run's own, or bp) at the checkpoint. */
async function gradientsUnder(rule: string): Promise<Map<string, Float32Array[]>> {
  const cfg = structuredClone(config);
  cfg.rule.name = rule as typeof cfg.rule.name;
  const { loader, trainer } = await openRunStack(dir, cfg);
  if (!(trainer instanceof NetworkTrainer)) throw new Error('the trainer gives no gradients');
  // The checkpoint's tensors this trainer holds (bp's has no B): names only, no clones made.
  const tensors = Object.fromEntries(
    Object.keys(trainer.namedTensors()).map((k) => [k, ckpt.tensors[k]] as const),
  );
  restoreTrainer(trainer, { tensors, scalars: ckpt.scalars });
  const out = new Map<string, Float32Array[]>();
  let n = 0;
  for await (const batch of loader.epochBatches('train', 0)) {
    const grads = trainer.gradients(batch);
    for (const [k, g] of Object.entries(grads)) {
      if (k.endsWith('/W')) out.set(k, [...(out.get(k) ?? []), (await g.data()) as Float32Array]);
    }
    tf.dispose(Object.values(grads));
    if (++n === nBatches) break;
  }
  trainer.dispose();
  await loader.close();
  return out;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const sum = (xs: Float32Array[]) => xs.reduce((a, b) => a.map((x, i) => x + b[i]));
const rule = await gradientsUnder(config.rule.name);
const bp = await gradientsUnder('bp');
const rows = [...bp.keys()].map((k) => {
  const [r, b] = [rule.get(k) ?? [], bp.get(k) ?? []];
  const each = r.map((g, i) => angleDeg(g, b[i]));
  const [rs, bs] = [sum(r), sum(b)];
  return [
    k.slice(0, -2),
    (each.reduce((a, x) => a + x, 0) / each.length).toFixed(1),
    angleDeg(rs, bs).toFixed(1),
    (norm(rs) / norm(bs)).toFixed(3),
    (dot(rs, bs) / (norm(bs) * norm(bs))).toFixed(3),
  ];
});
process.stdout.write(
  `${path.relative(process.cwd(), dir)}: rule ${config.rule.name}, ${path.basename(file)}, step ${ckpt.scalars.step}, ${nBatches} training batches\n\n${table(['weight', '∠(rule, bp)° per batch, mean', `∠ of the sums over ${nBatches} batches`, '‖rule‖/‖bp‖ of the sums', 'component along bp / ‖bp‖'], rows)}\n`,
);
