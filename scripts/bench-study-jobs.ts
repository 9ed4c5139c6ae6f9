/**
 * Several runs at once on one machine (benchmark, not a test): a study of N short runs
 * (`wtrain study run`) one at a time, then all at once, interleaved rounds; prints the
 * aggregate training images/s of each and the speed-up. A small net leaves a GPU mostly
 * idle (the host records commands), so runs side by side should share it well; on a CPU
 * it says whether two 1-thread runs beat one at a time.
 *
 *   node --import tsx scripts/bench-study-jobs.ts [--config configs/_base-cifar10.yaml]
 *     [--data DIR] [--runs 4] [--jobs 4] [--steps 60] [--rounds 1] [--set backend.name=webgpu]...
 *     [--out DIR]
 *
 * Data: --data, a CIFAR-10 binary folder (default ../shared/datasets/cifar10/...).
 * Two numbers per study: aggregate img/s = images trained by all runs / wall time of the
 * whole study (start-up included: what a study costs), and steady img/s = the sum over
 * runs of each run's median step-record img/s (after its first record), i.e. the rate
 * while the runs train side by side. On the GPU node the bundle runs it
 * (`scripts/bench-gpu.sh jobs`, WTRAIN_BIN = the bundle's wtrain.mjs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median, table } from './stats.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: o } = parseArgs({
  options: {
    config: { type: 'string', default: path.join(ROOT, 'configs', '_base-cifar10.yaml') },
    runs: { type: 'string', default: '4' },
    jobs: { type: 'string', default: '4' },
    steps: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '1' },
    set: { type: 'string', multiple: true, default: [] },
    data: { type: 'string' },
    out: { type: 'string' },
  },
});
const runs = Number(o.runs);
const steps = Number(o.steps);
const out = o.out ?? mkdtempSync(path.join(tmpdir(), 'wtrain-bench-jobs-'));
mkdirSync(out, { recursive: true });
// In the bundle (bundle/bench-study-jobs.mjs) the CLI is the wtrain.mjs beside it.
const bundled = path.join(import.meta.dirname, 'wtrain.mjs');
const bin = process.env.WTRAIN_BIN ?? (existsSync(bundled) ? bundled : path.join(ROOT, 'bin', 'wtrain.js'));
const cifar = path.resolve(
  o.data ?? path.join(ROOT, '..', 'shared', 'datasets', 'cifar10', 'cifar-10-batches-bin'),
);

function studyFile(dir: string): string {
  const seeds = Array.from({ length: runs }, (_, i) => i);
  const file = path.join(dir, 'study.yaml');
  writeFileSync(
    file,
    [
      'name: bench-jobs',
      `base: ${JSON.stringify(path.resolve(o.config))}`,
      'set:',
      `  data.path: ${JSON.stringify(cifar)}`,
      `  train.max_steps: ${steps}`,
      '  train.batch_size: 128',
      '  train.angles_every: 0',
      `  train.log_every: ${Math.max(1, Math.floor(steps / 10))}`,
      '  train.eval_every: 0',
      '  train.eval_batches: 1',
      '  run.checkpoint_every: 0',
      '  run.tensorboard: false',
      `seeds: [${seeds.join(', ')}]`,
      'runs: { bp: { rule.name: bp } }',
      '',
    ].join('\n'),
  );
  return file;
}

/** Wall seconds of the whole study, the images its runs trained, their summed steady img/s. */
function once(jobs: number, round: number): { wall: number; images: number; steady: number } {
  const dir = path.join(out, `r${round}-j${jobs}`);
  // A fresh folder: a rerun must not continue (or wait on) the runs of an earlier one.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = studyFile(dir);
  const sets = (o.set as string[]).flatMap((s) => ['--set', s]);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [bin, 'study', 'run', file, '--out', path.join(dir, 'runs'), '--jobs', `${jobs}`, ...sets],
    {
      encoding: 'utf8',
    },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`study run exited ${r.status}: ${r.stdout}${r.stderr}`);
  let images = 0;
  let steady = 0;
  for (let s = 0; s < runs; s++) {
    const metrics = readFileSync(path.join(dir, 'runs', `bp-s${s}`, 'metrics.jsonl'), 'utf8');
    const records = metrics
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    images += records.at(-1).step * 128;
    const rates = records
      .filter((r) => r.kind === 'step' && r.img_per_s > 0)
      .slice(1)
      .map((r) => r.img_per_s as number);
    if (rates.length > 0) steady += median(rates);
  }
  return { wall, images, steady };
}

const rows: string[][] = [];
const by: Record<string, number[]> = { one: [], all: [] };
const steadyBy: Record<string, number[]> = { one: [], all: [] };
for (let round = 0; round < Number(o.rounds); round++) {
  for (const [key, jobs] of [
    ['one', 1],
    ['all', Number(o.jobs)],
  ] as const) {
    const r = once(jobs, round);
    by[key].push(r.images / r.wall);
    // One at a time, the runs never overlap: the steady rate is one run's (their mean).
    const steady = jobs === 1 ? r.steady / runs : r.steady;
    steadyBy[key].push(steady);
    process.stderr.write(
      `round ${round}, --jobs ${jobs}: ${r.wall.toFixed(1)} s, ${(r.images / r.wall).toFixed(0)} img/s whole study, ${steady.toFixed(0)} steady\n`,
    );
    rows.push([
      `${round}`,
      `${jobs}`,
      `${runs}`,
      r.wall.toFixed(1),
      (r.images / r.wall).toFixed(0),
      steady.toFixed(0),
    ]);
  }
}
process.stdout.write(
  `${table(['round', 'jobs', 'runs', 'wall s (whole study, incl. start-up)', 'aggregate img/s', 'steady img/s'], rows)}\n` +
    `speed-up of --jobs ${o.jobs} over one at a time (median img/s): ${(median(by.all) / median(by.one)).toFixed(2)}x whole study, ` +
    `${(median(steadyBy.all) / median(steadyBy.one)).toFixed(2)}x steady\n` +
    `runs of ${steps} steps at batch 128; ${o.config}; ${(o.set as string[]).join(' ') || 'backend from the config'}; run folders in ${out}\n`,
);
