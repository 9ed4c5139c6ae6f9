/** `wtrain run` of the quickstart smoke variant, end to end with the real stack: every run-dir file parses. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { parse as parseYaml } from 'yaml';
import { readCheckpointFile } from '../../src/runner/checkpoint-format.js';
import { runPaths } from '../../src/runner/rundir.js';
import { readEventFile } from '../../src/runner/tensorboard/writer.js';
import { engineMissing, runMain, wtrain } from './helpers.js';

const lines = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

const skip = engineMissing() ?? false;

describe('quickstart --smoke end to end', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-e2e-'));
  const runDir = path.join(dir, 'qs');

  it('runs, prints where the report is, and leaves every run-dir file parseable', async () => {
    const r = await wtrain(['run', 'configs/quickstart.yaml', '--smoke', '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /report: .*qs\/report\/report\.html/);
    const p = runPaths(runDir);
    const cfg = parseYaml(readFileSync(p.config, 'utf8'));
    assert.equal(cfg.train.max_steps, 4);
    const meta = JSON.parse(readFileSync(p.meta, 'utf8'));
    assert.equal(meta.backend.name, 'wasm');
    assert.equal(meta.smoke, true);
    const metrics = lines(p.metrics);
    assert.ok(metrics.length >= 5);
    assert.ok(metrics.every((m) => Number.isFinite(m.train_loss)));
    const last = metrics.at(-1);
    assert.equal(last.kind, 'epoch');
    assert.ok(last.val_top1 >= 0 && last.val_top1 <= 1);
    assert.equal(readFileSync(p.csv, 'utf8').trim().split('\n').length, 2);
    const angles = lines(p.angles);
    assert.ok(
      angles.length > 0 &&
        angles.every((a) => Number.isFinite(a.matrix_angle) && Number.isFinite(a.delta_angle)),
    );
    assert.ok(lines(p.events).some((e) => e.msg === 'model built'));
    assert.equal(JSON.parse(readFileSync(p.status, 'utf8')).status, 'done');
    const tfe = readdirSync(runDir).find((f) => f.startsWith('events.out.tfevents.'));
    assert.ok(tfe);
    assert.ok(
      readEventFile(path.join(runDir, tfe)).some((e) => e.scalars.some((s) => s.tag === 'train/loss')),
    );
    for (const f of readdirSync(p.checkpoints)) {
      const c = readCheckpointFile<any>(path.join(p.checkpoints, f));
      assert.ok(Object.keys(c.tensors).length > 10);
    }
    assert.ok(existsSync(path.join(p.checkpoints, 'best.wtc')));
    for (const f of ['figure3-top1', 'figure4-angles']) {
      assert.match(readFileSync(path.join(p.report, `${f}.svg`), 'utf8'), /^<svg[^>]*xmlns/);
      const png = await sharp(path.join(p.report, `${f}.png`)).metadata();
      assert.equal(png.format, 'png');
    }
    assert.match(readFileSync(path.join(p.report, 'report.html'), 'utf8'), /<table>[\s\S]*<svg/);
  });

  it('eval and list read the run', async () => {
    const e = await runMain(['eval', runDir, '--checkpoint', 'last', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const r = JSON.parse(e.stdout);
    assert.equal(r.metrics.samples, 32);
    assert.ok(r.metrics.top1Error >= 0 && r.metrics.top1Error <= 1);
    const l = await runMain(['list', dir]);
    assert.equal(l.code, 0);
    assert.match(l.stdout, /^qs\s+kp\s+resnet20x0\.5\s+mnist\s+0\.\d+\s+\d+\.\d+%\s+done$/m);
  });

  it('run without --resume refuses the existing directory (2); with --resume auto skips it (0)', async () => {
    const again = await runMain(['run', 'configs/quickstart.yaml', '--smoke', '--run-dir', runDir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists \(done\)/);
    const auto = await runMain([
      'run',
      'configs/quickstart.yaml',
      '--smoke',
      '--run-dir',
      runDir,
      '--resume',
      'auto',
    ]);
    assert.equal(auto.code, 0, auto.stderr);
    assert.match(auto.stdout, /already done/);
    const refused = await runMain(['resume', runDir, '--set', 'rule.name=fa']);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /rule\.name: "kp" -> "fa"/);
  });
});
