/**
 * The presets' smoke variants, run for real (wasm, the shipped MNIST sample). Presets
 * whose smoke variants build the same network (model, rule, input) form one group; one
 * member of each group trains 2 steps, evaluates and measures angles. WTRAIN_SMOKE_ALL=1
 * runs every preset's full smoke variant instead.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { runPaths } from '../../src/runner/rundir.js';
import { runFromConfig } from '../../src/runner/session.js';
import { EXIT } from '../../src/util/errors.js';
import { engineMissing } from '../cli/helpers.js';
import { quietOpts, readLines, tempDir } from './helpers.js';

const DIR = path.resolve(import.meta.dirname, '../../configs');
const all = process.env.WTRAIN_SMOKE_ALL === '1';
const quick = ['train.max_steps=2', 'train.angles_every=2', 'train.eval_batches=1', 'train.log_every=1'];

function groups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  // quickstart.yaml --smoke runs end to end in test/cli/e2e.test.ts.
  for (const f of readdirSync(DIR).filter(
    (x) => x.endsWith('.yaml') && !x.startsWith('_') && x !== 'quickstart.yaml',
  )) {
    const c = loadConfig(path.join(DIR, f), { smoke: true }).config;
    const key = JSON.stringify([c.model, c.rule, c.data.image_size, c.backend]);
    out.set(key, [...(out.get(key) ?? []), f]);
  }
  return out;
}

describe('preset smoke variants (real engine)', { skip: engineMissing() ?? false }, () => {
  const tmp = tempDir('wtrain-presets-');
  const todo = all ? [...groups().values()].flat().map((f) => [f]) : [...groups().values()];
  for (const members of todo) {
    const f = members[0];
    it(`${f} --smoke${members.length > 1 ? ` (same network as ${members.slice(1).join(', ')})` : ''}`, async () => {
      const r = await runFromConfig(
        { configFile: path.join(DIR, f), smoke: true, sets: all ? [] : quick, runDir: path.join(tmp, f) },
        quietOpts,
      );
      assert.equal(r.exitCode, EXIT.OK);
      const recs = readLines(runPaths(r.runDir).metrics);
      const last = recs.at(-1);
      assert.equal(last.kind, 'epoch');
      assert.ok(Number.isFinite(last.train_loss) && Number.isFinite(last.val_loss), JSON.stringify(last));
      const angles = readLines(runPaths(r.runDir).angles);
      assert.ok(angles.length > 0 && angles.every((a) => Number.isFinite(a.delta_angle)));
      // Every matrix angle is measured, except below DFA's head, which has no kernel of W's shape (null).
      const head = angles.filter((a) => a.index === Math.max(...angles.map((b) => b.index)));
      const below = angles.filter((a) => !head.includes(a));
      assert.ok(head.every((a) => Number.isFinite(a.matrix_angle)));
      assert.ok(
        below.every(
          (a) => Number.isFinite(a.matrix_angle) || (a.matrix_angle === null && f.includes('-dfa')),
        ),
      );
    });
  }
});
