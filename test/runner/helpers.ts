import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TIMING_FIELDS } from '../../src/runner/metrics-log.js';
import { runFromConfig } from '../../src/runner/session.js';
import type { StopSignal } from '../../src/runner/signals.js';
import { fakeStack } from './fake-stack.js';

export function tempDir(prefix = 'wtrain-run-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A small config for the fake stack: 5 batches/epoch, 3 epochs, checkpoints every 4 batches. */
export function writeConfig(dir: string, extra = ''): string {
  const file = path.join(dir, 'fake.yaml');
  writeFileSync(
    file,
    `name: fake
data:
  source: mnist
optimizer:
  lr: 0.5
schedule:
  warmup_epochs: 1
  decay_epochs: [2]
train:
  epochs: 3
  batch_size: 4
  log_every: 2
  angles_every: 3
run:
  checkpoint_every: 4
  checkpoint_unit: step
  keep_checkpoints: 2
  report: false
  progress: none
${extra}`,
  );
  return file;
}

export function readLines(file: string): any[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** metrics.jsonl without the fields that depend on the machine's speed. */
export function learningRecords(file: string): any[] {
  return readLines(file).map((r) => {
    const o = { ...r };
    for (const k of TIMING_FIELDS) delete o[k];
    return o;
  });
}

export const quietOpts = { quiet: true, progress: 'none' as const, report: false, say: () => {} };

/** `writeConfig(dir)` run into `dir/run` on a fake engine. */
export async function runFake(
  dir: string,
  engine = fakeStack(),
  extra: Partial<Parameters<typeof runFromConfig>[0]> = {},
  signals?: StopSignal,
) {
  return runFromConfig(
    { configFile: writeConfig(dir), runDir: path.join(dir, 'run'), ...extra },
    { ...quietOpts, stack: engine, signals },
  );
}
