/** `wtrain report` from small fake run directories: Figure 3/4 SVG + PNG and report.html are valid. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { displayPath } from '../../src/config/load.js';
import { figure3, figure4 } from '../../src/report/figures.js';
import { renderReport } from '../../src/report/index.js';
import { readRun, runLabels } from '../../src/report/read-run.js';
import { meanSd, seedGroups } from '../../src/report/seeds.js';
import { UserError } from '../../src/util/errors.js';

function fakeRun(root: string, name: string, rule: string, withVal = true, extra = ''): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'config.yaml'),
    `name: ${name}\nrule:\n  name: ${rule}\nmodel:\n  arch: resnet20\ndata:\n  source: mnist\n${extra}`,
  );
  const seed = Number(/seed: (\d+)/.exec(extra)?.[1] ?? 0);
  const metrics: string[] = [];
  const angles: string[] = [];
  for (let l = 0; l < 4; l++) {
    // Angles at initialisation (step 0), as the training loop logs them.
    angles.push(
      JSON.stringify({
        step: 0,
        epoch: 0,
        phase: 'train',
        layer: `conv${l}`,
        index: l,
        matrix_angle: 90 + l,
        delta_angle: 60 + l,
      }),
    );
  }
  for (let e = 1; e <= 4; e++) {
    const top1 = 0.9 / e + (rule === 'fa' ? 0.05 : 0) + seed * 0.01;
    metrics.push(
      JSON.stringify({
        kind: 'step',
        phase: 'train',
        step: e * 10 - 5,
        epoch: e - 0.5,
        mirror_steps: 0,
        train_loss: 2 / e,
        train_top1: top1,
        train_top5: top1 / 3,
        val_loss: null,
        val_top1: null,
        val_top5: null,
        lr: 0.1,
        img_per_s: 50,
        data_wait: 0.1,
        skipped: 0,
        wall_s: e * 2,
      }),
      JSON.stringify({
        kind: 'epoch',
        phase: 'train',
        step: e * 10,
        epoch: e,
        mirror_steps: 0,
        train_loss: 2 / e,
        train_top1: top1,
        train_top5: top1 / 3,
        val_loss: withVal ? 2 / e : null,
        val_top1: withVal ? top1 : null,
        val_top5: withVal ? top1 / 4 : null,
        lr: 0.1,
        img_per_s: 100 + e,
        data_wait: 0.1,
        skipped: 0,
        wall_s: e * 3,
      }),
    );
    for (let l = 0; l < 4; l++) {
      angles.push(
        JSON.stringify({
          step: e * 10,
          epoch: e,
          phase: 'train',
          layer: `conv${l}`,
          index: l,
          matrix_angle: 80 / e + l,
          delta_angle: 50 / e + l,
        }),
      );
    }
  }
  writeFileSync(path.join(dir, 'metrics.jsonl'), `${metrics.join('\n')}\n{"torn`);
  writeFileSync(path.join(dir, 'angles.jsonl'), `${angles.join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'status.json'),
    JSON.stringify({
      status: 'done',
      pid: 1,
      host: 'elsewhere',
      updated: '',
      epoch: 4,
      step: 40,
      best_val_top1: 0.225,
    }),
  );
  return dir;
}

describe('report', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'wtrain-report-'));
  const dirs = [fakeRun(root, 'r-bp', 'bp'), fakeRun(root, 'r-fa', 'fa'), fakeRun(root, 'r-kp', 'kp', false)];

  it('figure specs: one line per run labelled by rule; one panel per run and measure, layers coloured in order', () => {
    const runs = dirs.map((d) => readRun(d));
    const labels = runLabels(runs);
    assert.deepEqual(labels, ['BP', 'FA', 'KP']);
    const f3: any = figure3(runs, labels);
    // As the paper's Figure 3: top-1 and top-5, train and val, for each run (KP has no val).
    const curves = (run: string) =>
      [
        ...new Set(
          f3.data.values.filter((v: any) => v.run === run).map((v: any) => `${v.metric} ${v.split}`),
        ),
      ].sort();
    const all = ['top-1 error train', 'top-1 error val', 'top-5 error train', 'top-5 error val'];
    assert.deepEqual(curves('BP'), all);
    assert.deepEqual(curves('FA'), all);
    assert.deepEqual(curves('KP'), ['top-1 error train', 'top-5 error train']);
    assert.equal(f3.data.values.length, 4 * 4 + 4 * 4 + 2 * 4);
    const at = (run: string, metric: string, split: string, epoch: number) =>
      f3.data.values.find(
        (v: any) => v.run === run && v.metric === metric && v.split === split && v.epoch === epoch,
      ).error;
    assert.ok(Math.abs(at('BP', 'top-5 error', 'val', 2) - 100 * (0.45 / 4)) < 1e-9); // val_top5 = top1 / 4
    assert.ok(Math.abs(at('BP', 'top-5 error', 'train', 2) - 100 * (0.45 / 3)) < 1e-9); // train_top5 = top1 / 3
    assert.deepEqual(f3.facet.column.sort, ['top-1 error', 'top-5 error']);
    assert.equal(f3.spec.layer[0].encoding.strokeDash.field, 'split');
    const f4: any = figure4(runs, labels);
    assert.equal(f4.data.values.length, 3 * 5 * 4 * 2); // epochs 0 (initialisation) to 4, 4 layers, 2 angles
    assert.deepEqual(
      f4.data.values.filter((v: any) => v.run === 'BP' && v.epoch === 0).map((v: any) => v.angle),
      [90, 60, 91, 61, 92, 62, 93, 63],
    );
    assert.equal(f4.facet.column.field, 'run');
    assert.equal(f4.spec.encoding.color.field, 'index');
    const other = readRun(fakeRun(mkdtempSync(path.join(tmpdir(), 'wtrain-report-')), 'r-bp', 'bp'));
    const twoBp = runLabels([runs[0], runs[1], other]);
    assert.deepEqual(twoBp, [`BP (${displayPath(runs[0].dir)})`, 'FA', `BP (${displayPath(other.dir)})`]);
    assert.notEqual(twoBp[0], twoBp[2]); // same rule and name, different folders
    const renamed = readRun(fakeRun(root, 'r-bp2', 'bp'));
    assert.deepEqual(runLabels([runs[0], renamed]), ['BP (r-bp)', 'BP (r-bp2)']);
  });

  it('renders valid SVG, PNG and report.html with a summary table', async () => {
    const out = path.join(root, 'out');
    const r = await renderReport(dirs, out);
    for (const f of ['figure3-top1', 'figure4-angles']) {
      const svg = readFileSync(path.join(out, `${f}.svg`), 'utf8');
      assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(svg, /<\/svg>\s*$/);
      const meta = await sharp(path.join(out, `${f}.png`)).metadata();
      assert.equal(meta.format, 'png');
      assert.ok(meta.width! > 300 && meta.height! > 200, `${meta.width}x${meta.height}`);
    }
    const fig3 = readFileSync(path.join(out, 'figure3-top1.svg'), 'utf8');
    assert.match(fig3, /top-1 error/);
    assert.match(fig3, /top-5 error/);
    assert.match(fig3, /stroke-dasharray/); // the train curves
    assert.match(readFileSync(path.join(out, 'figure4-angles.svg'), 'utf8'), /δ angle/);
    const html = readFileSync(r.html, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg/g) ?? []).length >= 2, true);
    assert.match(html, /<td>r-bp<\/td><td>BP<\/td>/);
    assert.match(html, /<td>22\.50%<\/td>/); // BP best top-1 = 0.9/4
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.length, 3);
    assert.equal(summary[2].best_top1, null);
    assert.equal(summary[0].epochs, 4);
    assert.equal(summary[0].wall_s, 12);
  });

  it('a folder that is not a run (sweep.sh writes <out>/report beside the runs) is left out with a warning', async () => {
    const sweep = mkdtempSync(path.join(tmpdir(), 'wtrain-report-sweep-'));
    const runDirs = [fakeRun(sweep, 'q-bp-s0', 'bp'), fakeRun(sweep, 'q-kp-s0', 'kp')];
    await renderReport(runDirs, path.join(sweep, 'report'), () => {});
    writeFileSync(path.join(sweep, 'notes.txt'), '');
    // What the shell makes of runs/sweep-q/*: the runs, the report folder, any stray file.
    const glob = ['notes.txt', 'q-bp-s0', 'q-kp-s0', 'report'].map((f) => path.join(sweep, f));
    const warnings: string[] = [];
    const r = await renderReport(glob, path.join(sweep, 'report2'), (l) => warnings.push(l));
    assert.deepEqual(
      r.summary.map((x) => x.name),
      ['q-bp-s0', 'q-kp-s0'],
    );
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /notes\.txt: not a run directory \(no config\.yaml\)/);
    assert.match(warnings[1], /report: not a run directory \(a report folder, no config\.yaml\); left out/);
    await assert.rejects(
      renderReport(
        [path.join(sweep, 'report'), path.join(sweep, 'notes.txt')],
        path.join(sweep, 'r3'),
        () => {},
      ),
      (e: unknown) => e instanceof UserError && /no run directory among/.test(e.message),
    );
    await assert.rejects(
      renderReport([path.join(sweep, 'report')], path.join(sweep, 'r4')),
      (e: unknown) => e instanceof UserError && /is not a run directory/.test(e.message),
    );
  });

  it('seeds: runs differing only in train.seed are one setting: mean line with a min-max band, mean ± sd', async () => {
    const seedRoot = mkdtempSync(path.join(tmpdir(), 'wtrain-report-seeds-'));
    const seedDirs = [
      fakeRun(seedRoot, 'bp-s0', 'bp', true, 'train:\n  seed: 0\n'),
      fakeRun(seedRoot, 'fa-s0', 'fa', true, 'train:\n  seed: 0\n'),
      fakeRun(seedRoot, 'bp-s1', 'bp', true, 'train:\n  seed: 1\nrun:\n  runs_root: elsewhere\n'),
      fakeRun(seedRoot, 'bp-s2', 'bp', true, 'train:\n  seed: 2\n'),
      fakeRun(seedRoot, 'bp-lr', 'bp', true, 'train:\n  seed: 0\noptimizer:\n  lr: 0.5\n'),
    ];
    const runs = seedDirs.map((d) => readRun(d));
    const groups = seedGroups(runs);
    assert.deepEqual(
      groups.map((g) => [g.label, g.members, g.seeds]),
      [
        ['BP (bp-s0) (3 seeds)', [0, 2, 3], [0, 1, 2]],
        ['FA', [1], [0]],
        ['BP (bp-lr)', [4], [0]],
      ],
    );
    const f3: any = figure3(runs, runLabels(runs), groups);
    const bpSeeds = f3.data.values.filter((v: any) => v.run === 'BP (bp-s0) (3 seeds)');
    const bp = bpSeeds.filter((v: any) => v.metric === 'top-1 error' && v.split === 'val');
    assert.deepEqual(
      bp.map((v: any) => v.epoch),
      [1, 2, 3, 4],
    );
    assert.equal(bpSeeds.length, 4 * 4); // train and val, top-1 and top-5
    // seeds 0, 1, 2 add 0, 1, 2 points of error: mean +1, band [+0, +2]
    assert.ok(
      Math.abs(bp[0].error - 91) < 1e-9 && bp[0].lo === 90 && Math.abs(bp[0].hi - 92) < 1e-9,
      JSON.stringify(bp[0]),
    );
    const bp5 = bpSeeds.find((v: any) => v.metric === 'top-5 error' && v.split === 'train' && v.epoch === 1);
    // train top-5 = top-1 / 3: 30, 30.33, 30.67 over the seeds
    assert.ok(
      Math.abs(bp5.error - (30 + 1 / 3)) < 1e-9 &&
        Math.abs(bp5.lo - 30) < 1e-9 &&
        Math.abs(bp5.hi - (30 + 2 / 3)) < 1e-9,
      JSON.stringify(bp5),
    );
    assert.equal(f3.spec.layer[0].mark.type, 'area');
    assert.equal(f3.spec.layer[0].encoding.detail.field, 'split');
    const stats = meanSd([0.1, 0.2, null, 0.3])!;
    assert.equal(stats.n, 3);
    assert.ok(Math.abs(stats.mean - 0.2) < 1e-12 && Math.abs(stats.sd! - 0.1) < 1e-12);
    assert.equal(meanSd([0.4])!.sd, null);
    assert.equal(meanSd([null]), null);
    const out = path.join(seedRoot, 'out');
    await renderReport(seedDirs, out);
    const bySetting = JSON.parse(readFileSync(path.join(out, 'seeds.json'), 'utf8'));
    assert.deepEqual(bySetting[0].runs, ['bp-s0', 'bp-s1', 'bp-s2']);
    assert.ok(Math.abs(bySetting[0].best_top1.mean - 0.235) < 1e-12); // 0.225 + 0.01
    assert.match(
      readFileSync(path.join(out, 'report.html'), 'utf8'),
      /Over seeds.*<td>23\.50% ± 1\.00<\/td>/s,
    );
  });
});
