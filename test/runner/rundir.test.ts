/** Run-directory naming, status and `wtrain list`. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatListing, listRuns } from '../../src/runner/list.js';
import { chooseRunDir, effectiveState } from '../../src/runner/rundir.js';
import { tempDir } from './helpers.js';

describe('run directory names', () => {
  const base = {
    configFile: 'configs/resnet18-kp.yaml',
    runsRoot: 'runs',
    configRunDir: null as string | null,
    configName: null as string | null,
    stable: false,
    smoke: false,
    now: new Date(2025, 0, 2, 3, 4, 5),
  };
  const rel = (o: Partial<typeof base> & { name?: string; runDir?: string }) =>
    path.relative(process.cwd(), chooseRunDir({ ...base, ...o }));

  it('default <config>-<yyyymmdd-hhmmss>; stable for --resume auto; -smoke for smoke runs', () => {
    assert.equal(rel({}), 'runs/resnet18-kp-20250102-030405');
    assert.equal(rel({ stable: true }), 'runs/resnet18-kp');
    assert.equal(rel({ stable: true, smoke: true }), 'runs/resnet18-kp-smoke');
  });

  it('--run-dir > --name > run.run_dir > name: > default', () => {
    assert.equal(rel({ runDir: 'x/y', name: 'n', configRunDir: 'c' }), 'x/y');
    assert.equal(rel({ name: 'n', configRunDir: 'c', configName: 'cn' }), 'runs/n');
    assert.equal(rel({ configRunDir: 'c', configName: 'cn' }), 'c');
    assert.equal(rel({ configName: 'cn', runsRoot: 'elsewhere' }), 'elsewhere/cn');
  });
});

describe('status', () => {
  it('a running status whose process is gone reads as failed', () => {
    const s = {
      status: 'running' as const,
      pid: 2 ** 22 + 12345,
      host: hostname(),
      updated: '',
      epoch: 1,
      step: 2,
      best_val_top1: null,
    };
    assert.equal(effectiveState(s), 'failed');
    assert.equal(effectiveState({ ...s, pid: process.pid }), 'running');
    assert.equal(effectiveState({ ...s, host: 'another-host' }), 'running');
    assert.equal(effectiveState(undefined), 'unknown');
  });

  it('list: one line per run with rule, model, data, epoch, best top-1, status', () => {
    const root = tempDir('wtrain-list-');
    for (const [name, rule, width] of [
      ['b', 'kp', 0.5],
      ['a', 'bp', 1],
    ] as const) {
      const d = path.join(root, name);
      mkdirSync(d);
      writeFileSync(
        path.join(d, 'config.yaml'),
        `name: ${name}\nrule: { name: ${rule} }\nmodel: { arch: resnet20, width: ${width} }\ndata: { source: mnist }\n`,
      );
      writeFileSync(
        path.join(d, 'metrics.jsonl'),
        `${JSON.stringify({ kind: 'epoch', step: 10, epoch: 2, val_top1: 0.125 })}\n`,
      );
      writeFileSync(
        path.join(d, 'status.json'),
        JSON.stringify({ status: 'interrupted', pid: 1, host: 'h' }),
      );
    }
    mkdirSync(path.join(root, 'not-a-run'));
    const runs = listRuns(root);
    assert.deepEqual(
      runs.map((r) => r.name),
      ['a', 'b'],
    );
    assert.equal(
      formatListing(runs),
      [
        'NAME  RULE  MODEL         DATA   EPOCH  BEST TOP-1  STATUS',
        'a     bp    resnet20      mnist  2.00   12.50%      interrupted',
        'b     kp    resnet20x0.5  mnist  2.00   12.50%      interrupted',
      ].join('\n'),
    );
  });
});
