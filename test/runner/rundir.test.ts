/** Run-directory naming, status and `wtrain list`. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatListing, listRuns } from '../../src/report/list.js';
import { chooseRunDir, effectiveState } from '../../src/runner/rundir.js';
import { UserError } from '../../src/util/errors.js';
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

  it('list: looks into sweep and study folders; the epoch is the furthest recorded', () => {
    const root = tempDir('wtrain-list-');
    const make = (rel: string, metricsEpoch: number, status?: object) => {
      const d = path.join(root, rel);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'config.yaml'), `name: ${path.basename(rel)}\nrule: { name: kp }\n`);
      const rec = { kind: 'step', step: metricsEpoch * 100, epoch: metricsEpoch, val_top1: null };
      writeFileSync(path.join(d, 'metrics.jsonl'), `${JSON.stringify(rec)}\n`);
      if (status) writeFileSync(path.join(d, 'status.json'), JSON.stringify(status));
    };
    // Stopped by a signal at epoch 0.74 (checkpoint, status.json) between log intervals.
    const stopped = { status: 'interrupted', epoch: 0.74, step: 74, host: 'h' };
    make('top', 1);
    make('sweep-quickstart/quickstart-kp-s0', 0.6, stopped);
    make('sweep-quickstart/quickstart-bp-s0', 0.8, stopped);
    make('study/cifar/kp', 2);
    mkdirSync(path.join(root, 'sweep-quickstart', 'report'));
    mkdirSync(path.join(root, '.hidden', 'x'), { recursive: true });
    writeFileSync(path.join(root, '.hidden', 'x', 'config.yaml'), 'name: hidden\n');
    const runs = listRuns(root);
    assert.deepEqual(
      runs.map((r) => `${r.name} ${r.epoch} ${r.step}`),
      [
        'study/cifar/kp 2 200',
        'sweep-quickstart/quickstart-bp-s0 0.8 80',
        'sweep-quickstart/quickstart-kp-s0 0.74 74',
        'top 1 100',
      ],
    );
  });

  it('list: a run whose files are damaged is listed unreadable, with a warning naming the file', async () => {
    const root = tempDir('wtrain-list-');
    const make = (name: string, config: string, metrics: string) => {
      mkdirSync(path.join(root, name));
      writeFileSync(path.join(root, name, 'config.yaml'), config);
      writeFileSync(path.join(root, name, 'metrics.jsonl'), metrics);
    };
    const row = JSON.stringify({ kind: 'epoch', step: 10, epoch: 2, val_top1: 0.125 });
    make('good', 'name: good\nrule: { name: kp }\n', `${row}\n`);
    make('garbled-config', 'name: [unclosed\n', `${row}\n`);
    make('garbled-metrics', 'name: garbled-metrics\n', `${row}\n{garbage\n${row}\n`);
    make('torn-last-line', 'name: torn-last-line\n', `${row}\n{"kind": "ep`);
    const warnings: string[] = [];
    const runs = listRuns(root, (l) => warnings.push(l));
    assert.deepEqual(
      runs.map((r) => `${r.name} ${r.status} ${r.epoch}`),
      [
        'garbled-config unreadable 0',
        'garbled-metrics unreadable 0',
        'good unknown 2',
        'torn-last-line unknown 2',
      ],
    );
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /garbled-config\/config\.yaml: cannot read it/);
    assert.match(warnings[1], /garbled-metrics\/metrics\.jsonl:2: /);
    const { renderReport } = await import('../../src/report/index.js');
    await assert.rejects(
      renderReport([path.join(root, 'good'), path.join(root, 'garbled-config')], path.join(root, 'out')),
      (e: unknown) => e instanceof UserError && /garbled-config\/config\.yaml/.test(e.message),
    );
    writeFileSync(path.join(root, 'a-file'), '');
    assert.throws(
      () => listRuns(path.join(root, 'a-file')),
      (e: unknown) => e instanceof UserError && /not a folder/.test(e.message),
    );
  });
});
