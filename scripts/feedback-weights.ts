/**
 * The feedback weights of a run, layer by layer (analysis, not a test): ‖W‖, ‖B‖,
 * ‖B‖/‖W‖ and the matrix angle at the run's latest checkpoint, and where the rule's
 * theory says more:
 * - KP (eqs. 16-17): B and W get the same gradient, so D = W − B only feels the weight
 *   decay: u ← μu + λD, D ← D − η(λD + μu) (Nesterov, as the optimiser). The script
 *   replays that scalar recurrence over the run's learning rates and compares the
 *   predicted ‖D‖/‖D₀‖ with the measured one (D₀ from the run's seeded initialisation).
 * - WM (eq. 21): B settles at η_B·Cov(x, y)/λ_WM ≈ (η_B/λ_WM)·σ²·E[φ']·W, about 0.1·W
 *   with the paper's η_B 0.1, λ_WM 0.5 (E[φ'] ≈ 1/2 for a ReLU of centred noise).
 *
 *   node --import tsx scripts/feedback-weights.ts runs/<study>/<run> [--checkpoint FILE]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { type CheckpointContent, readCheckpointFile } from '../src/runner/checkpoint-format.js';
import { CheckpointStore } from '../src/runner/checkpoints.js';
import { runPaths } from '../src/runner/rundir.js';
import { learningRateAt, peakLearningRate } from '../src/train/schedule.js';
import { angleDeg, openRunStack, runConfig } from './run-stack.js';
import { norm, table } from './stats.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { checkpoint: { type: 'string' } },
});
const dir = path.resolve(positionals[0] ?? '');
const paths = runPaths(dir);
const config = runConfig(dir);
const file = o.checkpoint ?? new CheckpointStore(paths.checkpoints).latest();
if (!file) throw new Error(`${dir}: no checkpoint`);
const ckpt = readCheckpointFile<{ iter: number }>(file) as CheckpointContent<{ iter: number }>;

// The initial weights: the trainer built from the run's config (seeded) before any step.
const { loader, trainer } = await openRunStack(dir, config);
const initial = trainer.getState().tensors;
const init = new Map<string, Float32Array>();
for (const [k, t] of Object.entries(initial)) init.set(k, (await t.data()) as Float32Array);
tf.dispose(Object.values(initial));
const bpe = loader.batchesPerEpoch('train');
const warmup = trainer.warmupEpochs;
trainer.dispose();
await loader.close();

const final = (k: string) => new Float32Array(ckpt.tensors[k].data.buffer.slice(0));
const diff = (a: Float32Array, b: Float32Array) => a.map((x, i) => x - b[i]);

/** KP: ‖D_T‖/‖D_0‖ from the recurrence of D = W − B over the run's learning rates. */
function kpPredicted(steps: number): number {
  const { weight_decay: lambda, momentum: mu, nesterov } = config.optimizer;
  const peak = peakLearningRate(config.optimizer, config.rule, config.train.batch_size);
  const mirrorIters = Math.round(warmup * bpe);
  let r = 1;
  let u = 0;
  for (let s = 0; s < steps; s++) {
    const lr = learningRateAt((mirrorIters + s) / bpe, peak, config.schedule, warmup);
    const g = lambda * r;
    u = mu * u + g;
    r -= lr * (nesterov ? g + mu * u : u);
  }
  return r;
}

const rule = config.rule.name;
const steps = ckpt.scalars.step ?? 0;
const rows: string[][] = [];
const layers = Object.keys(ckpt.tensors)
  .filter((k) => k.endsWith('/B') && ckpt.tensors[k.replace(/\/B$/, '/W')])
  .map((k) => k.slice(0, -2));
const predicted = rule === 'kp' ? kpPredicted(steps) : null;
for (const l of layers) {
  const [W, B] = [final(`${l}/W`), final(`${l}/B`)];
  const row = [
    l,
    norm(W).toFixed(3),
    norm(B).toFixed(3),
    (norm(B) / norm(W)).toFixed(3),
    angleDeg(B, W).toFixed(1),
  ];
  if (predicted !== null) {
    const [W0, B0] = [init.get(`${l}/W`), init.get(`${l}/B`)];
    if (!W0 || !B0) throw new Error(`${l}: no initial W or B`);
    row.push((norm(diff(W, B)) / norm(diff(W0, B0))).toFixed(4), predicted.toFixed(4));
  }
  rows.push(row);
}
const head = ['layer', '‖W‖', '‖B‖', '‖B‖/‖W‖', '∠(B, W)°'];
if (predicted !== null) head.push('‖W−B‖/‖W₀−B₀‖ measured', 'predicted (eqs. 16-17, the run’s lrs)');
process.stdout.write(
  `${path.relative(process.cwd(), dir)}: rule ${rule}, ${path.basename(file)}, step ${steps}\n\n${table(head, rows)}\n`,
);
