/** `wtrain study`: the study file, the run pool (with a stub wtrain), and one real study end to end. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadStudy, runArgs } from '../../src/study/definition.js';
import { spliceTable, studyReport } from '../../src/study/results.js';
import { runStudy, selectRuns } from '../../src/study/run.js';
import { studyStatus } from '../../src/study/status.js';
import { ROOT, runMain } from '../cli/helpers.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'wtrain-study-'));

function writeStudy(dir: string, body: string, name = 'study.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
}

const QUICK = (dir: string) => `
name: quick
base: ${path.join(ROOT, 'configs', 'quickstart.yaml')}
set:
  data.path: ${path.relative(dir, path.join(ROOT, 'data', 'mnist-sample'))}
  model.width: 0.25
  train.max_steps: 3
  train.batch_size: 8
  train.angles_every: 2
  data.train: { from: test, range: [0, 64] }
  data.val: { from: test, range: [64, 96] }
seeds: [0, 1]
runs:
  bp: { rule.name: bp }
  kp:
references:
  "paper": { bp: 30.1, kp: 29.2 }
`;

describe('study file', () => {
  it('expands variants × seeds into wtrain run arguments; data paths are relative to the study file', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'sub'));
    const file = writeStudy(path.join(dir, 'sub'), QUICK(path.join(dir, 'sub')));
    const s = loadStudy(file, { out: path.join(dir, 'runs') });
    assert.deepEqual(
      s.runs.map((r) => r.name),
      ['bp-s0', 'bp-s1', 'kp-s0', 'kp-s1'],
    );
    const args = runArgs(s, s.runs[1]);
    assert.equal(args[1], path.join(ROOT, 'configs', 'quickstart.yaml'));
    const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : []));
    assert.ok(sets.includes(`data.path=${path.join(ROOT, 'data', 'mnist-sample')}`), sets.join(' '));
    assert.ok(
      sets.includes('data.train.from=test') && sets.includes('data.train.range=[0,64]'),
      sets.join(' '),
    );
    // study-wide first, then the variant's, then the seed: later ones win
    assert.deepEqual(sets.slice(-2), ['rule.name=bp', 'train.seed=1']);
    assert.equal(args[args.indexOf('--run-dir') + 1], path.join(dir, 'runs', 'bp-s1'));
    assert.deepEqual(s.references, { paper: { bp: 30.1, kp: 29.2 } });
  });

  it('keeps a string that YAML would read as another type a string', () => {
    const dir = tmp();
    const file = writeStudy(
      dir,
      'name: q\nbase: x.yaml\nset: { name: "123", run.report: false }\nruns: { a: }\n',
    );
    const sets = loadStudy(file).runs[0].sets;
    assert.deepEqual(sets.slice(0, 2), ['name="123"', 'run.report=false']);
  });

  it('reports each problem with file:line:col and the key', () => {
    const dir = tmp();
    const file = writeStudy(dir, 'name: q\nbase: x.yaml\nrunz: {}\nruns: {}\nseeds: 0\n');
    assert.throws(
      () => loadStudy(file),
      (e: Error) => {
        assert.match(e.message, /study\.yaml:3:1 runz: unknown key \(did you mean .runs.\?\)/);
        assert.match(e.message, /study\.yaml:5:8 seeds: expected a list, got 0/);
        return true;
      },
    );
    const names = writeStudy(
      dir,
      'name: q\nbase: x.yaml\nruns:\n  "bad name": {}\n  ok: { 1x: 2 }\n',
      'n.yaml',
    );
    assert.throws(
      () => loadStudy(names),
      (e: Error) => {
        assert.match(e.message, /n\.yaml:4:3 runs\.bad name: expected a run name/);
        assert.match(e.message, /n\.yaml:5:9 runs\.ok\.1x: expected a dotted config key/);
        return true;
      },
    );
    const refs = writeStudy(
      dir,
      'name: q\nbase: x.yaml\nruns: { a: }\nreferences:\n  p: { nope: 1 }\n',
      'r.yaml',
    );
    assert.throws(() => loadStudy(refs), /r\.yaml:5:8 references\.p\.nope: no run named 'nope'/);
  });

  it('selects runs by name, variant or index, and names the runs when a selector matches none', () => {
    const dir = tmp();
    const s = loadStudy(writeStudy(dir, QUICK(dir)), { out: path.join(dir, 'runs') });
    assert.deepEqual(
      selectRuns(s, ['kp']).map((r) => r.name),
      ['kp-s0', 'kp-s1'],
    );
    assert.deepEqual(
      selectRuns(s, ['kp-s1,0']).map((r) => r.name),
      ['bp-s0', 'kp-s1'],
    );
    assert.throws(() => selectRuns(s, ['fa']), /no run 'fa' \(runs: 0:bp-s0, 1:bp-s1, 2:kp-s0, 3:kp-s1\)/);
    assert.throws(() => selectRuns(s, ['9']), /no run '9'/);
  });
});

/**
 * A stand-in for wtrain: records start/end times, then marks its run done; a run named
 * in $STUB_HANG waits for SIGTERM and exits 75 as wtrain does; $STUB_FAIL exits 1.
 */
function stub(dir: string): string[] {
  const file = path.join(dir, 'stub.mjs');
  writeFileSync(
    file,
    `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
const a = process.argv.slice(2);
const dir = a[a.indexOf('--run-dir') + 1];
const name = a[a.indexOf('--name') + 1];
const log = (what) => appendFileSync(${JSON.stringify(path.join(dir, 'calls.log'))}, JSON.stringify({ name, what, t: Date.now(), sets: a.filter((x, i) => a[i - 1] === '--set') }) + '\\n');
mkdirSync(dir, { recursive: true });
writeFileSync(dir + '/config.yaml', 'train:\\n  epochs: 4\\n  max_steps: 3\\n');
log('start');
const finish = (status, code) => { writeFileSync(dir + '/status.json', JSON.stringify({ status })); log('end'); process.exit(code); };
if (process.env.STUB_HANG === name) {
  process.on('SIGTERM', () => { log('SIGTERM'); finish('interrupted', 75); });
  process.on('SIGINT', () => { log('SIGINT'); finish('interrupted', 130); });
  setInterval(() => {}, 1000);
} else if (process.env.STUB_STOP === name) setTimeout(() => finish('interrupted', 75), 50);
else setTimeout(() => (process.env.STUB_FAIL === name ? finish('failed', 1) : finish('done', 0)), 150);
`,
  );
  return [process.execPath, file];
}

const calls = (dir: string) =>
  readFileSync(path.join(dir, 'calls.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; what: string; t: number; sets: string[] });

describe('study run (stub wtrain)', () => {
  it('runs every run, N at a time, passes --set to each, and skips done runs the next time', async () => {
    const dir = tmp();
    const s = loadStudy(writeStudy(dir, QUICK(dir)), { out: path.join(dir, 'runs') });
    const said: string[] = [];
    const code = await runStudy(s, {
      jobs: 2,
      command: stub(dir),
      sets: ['backend.threads=1'],
      say: (l) => said.push(l),
    });
    assert.equal(code, 0);
    const c = calls(dir);
    assert.equal(c.filter((x) => x.what === 'start').length, 4);
    assert.ok(c.every((x) => x.sets.at(-1) === 'backend.threads=1'));
    let live = 0;
    let most = 0;
    for (const x of [...c].sort((a, b) => a.t - b.t)) {
      live += x.what === 'start' ? 1 : -1;
      most = Math.max(most, live);
    }
    assert.equal(most, 2);
    assert.ok(existsSync(path.join(dir, 'runs', 'logs', 'kp-s1.log')));
    assert.deepEqual(
      studyStatus(s).map((r) => r.state),
      ['done', 'done', 'done', 'done'],
    );
    assert.equal(await runStudy(s, { jobs: 2, command: stub(dir) }), 0);
    assert.equal(calls(dir).length, c.length, 'nothing started again');
  });

  it('a failing run does not stop the others; the study exits with its code', async () => {
    const dir = tmp();
    const s = loadStudy(writeStudy(dir, QUICK(dir)), { out: path.join(dir, 'runs') });
    process.env.STUB_FAIL = 'bp-s1';
    try {
      assert.equal(await runStudy(s, { jobs: 1, command: stub(dir) }), 1);
    } finally {
      delete process.env.STUB_FAIL;
    }
    assert.deepEqual(
      studyStatus(s).map((r) => r.state),
      ['done', 'failed', 'done', 'done'],
    );
  });

  it('SIGTERM stops the running runs (each exits 75) and starts no more; the study exits 75', async () => {
    const dir = tmp();
    const s = loadStudy(writeStudy(dir, QUICK(dir)), { out: path.join(dir, 'runs') });
    process.env.STUB_HANG = 'bp-s1';
    const listeners = process.listeners('SIGTERM');
    try {
      const done = runStudy(s, { jobs: 2, command: stub(dir), signals: true });
      // wait until bp-s1 hangs and another run has finished, then signal this process
      for (
        let i = 0;
        i < 100 && !(existsSync(path.join(dir, 'calls.log')) && calls(dir).some((x) => x.what === 'end'));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await done, 75);
    } finally {
      delete process.env.STUB_HANG;
    }
    assert.deepEqual(process.listeners('SIGTERM'), listeners, 'handlers removed');
    const states = studyStatus(s).map((r) => r.state);
    assert.equal(states[1], 'interrupted');
    assert.ok(states.includes('pending'), `no run started after the signal: ${states}`);
  });
});

describe('study run: checks before anything starts', () => {
  it('a config mistake in any run is reported once, naming the study and the run; nothing starts', async () => {
    const dir = tmp();
    const body = QUICK(dir).replace('  kp:\n', '  kp: { rule.nmae: kp }\n');
    const s = loadStudy(writeStudy(dir, body), { out: path.join(dir, 'runs') });
    await assert.rejects(runStudy(s, { jobs: 2, command: stub(dir) }), (e: Error) => {
      assert.match(
        e.message,
        /^study quick, run kp-s0: --set rule\.nmae=kp rule\.nmae: unknown key \(did you mean 'name'\?\)/,
      );
      assert.match(e.message, /run kp-s1: /);
      return true;
    });
    assert.ok(!existsSync(path.join(dir, 'calls.log')));
  });

  it('study-wide --set takes only keys that do not change what a run learns', async () => {
    const dir = tmp();
    const s = loadStudy(writeStudy(dir, QUICK(dir)), { out: path.join(dir, 'runs') });
    await assert.rejects(
      runStudy(s, { jobs: 1, command: stub(dir), sets: ['train.seed=3'] }),
      /--set train\.seed=3: only keys/,
    );
    assert.ok(!existsSync(path.join(dir, 'calls.log')));
  });

  it('refuses a seed listed twice; nested maps in set: are dotted keys, their data paths relative to the study file', () => {
    const dir = tmp();
    assert.throws(
      () => loadStudy(writeStudy(dir, 'name: q\nbase: x.yaml\nseeds: [0, 1, 0]\nruns: { a: }\n')),
      /seeds: seed 0 is listed twice/,
    );
    mkdirSync(path.join(dir, 'sub'));
    const f = writeStudy(
      path.join(dir, 'sub'),
      'name: q\nbase: x.yaml\nset: { data: { path: ../d, train: { from: test } } }\nruns: { a: }\n',
    );
    assert.deepEqual(loadStudy(f).runs[0].sets, [
      `data.path=${path.join(dir, 'd')}`,
      'data.train.from=test',
      'train.seed=0',
    ]);
  });

  it('one Ctrl-C after a run stopped by itself is passed on as SIGTERM (a checkpoint), not a second SIGINT', async () => {
    const dir = tmp();
    const s = loadStudy(writeStudy(dir, QUICK(dir)), { out: path.join(dir, 'runs') });
    Object.assign(process.env, { STUB_STOP: 'bp-s0', STUB_HANG: 'bp-s1' });
    try {
      const done = runStudy(s, { jobs: 2, command: stub(dir), signals: true });
      for (
        let i = 0;
        i < 100 &&
        !(
          existsSync(path.join(dir, 'calls.log')) &&
          calls(dir).some((x) => x.name === 'bp-s0' && x.what === 'end')
        );
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      process.emit('SIGINT', 'SIGINT');
      assert.equal(await done, 75);
    } finally {
      delete process.env.STUB_STOP;
      delete process.env.STUB_HANG;
    }
    assert.deepEqual(
      calls(dir)
        .filter((x) => x.name === 'bp-s1' && x.what.startsWith('SIG'))
        .map((x) => x.what),
      ['SIGTERM'],
    );
  });
});

describe('study run and report (real wtrain)', () => {
  it('trains a tiny study, continues it, and renders results/ with the table in the README', async () => {
    const dir = tmp();
    const file = writeStudy(dir, QUICK(dir));
    const runs = path.join(dir, 'runs');
    const r = await runMain([
      'study',
      'run',
      file,
      '--out',
      runs,
      '--jobs',
      '2',
      '--only',
      'bp-s0,kp',
      '--set',
      'backend.name=wasm',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const again = await runMain(['study', 'run', file, '--out', runs, '--only', 'bp-s0,kp']);
    assert.match(again.stdout, /3 of 3 runs done, 0 to run/);
    const st = await runMain(['study', 'status', file, '--out', runs]);
    assert.match(st.stdout, /1 {2}bp-s1 {2}pending/);
    // the study asks for more steps: the done run continues from its checkpoint
    writeFileSync(file, QUICK(dir).replace('train.max_steps: 3', 'train.max_steps: 5'));
    const more = await runMain(['study', 'run', file, '--out', runs, '--only', 'bp-s0']);
    assert.match(more.stdout, /0 of 1 runs done, 1 to run/, more.stdout + more.stderr);
    const bp0 = readFileSync(path.join(runs, 'bp-s0', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(JSON.parse(bp0.at(-1)!).step, 5);
    writeFileSync(file, QUICK(dir));

    const results = path.join(dir, 'results');
    mkdirSync(results);
    writeFileSync(
      path.join(results, 'README.md'),
      '# quick\n<!-- study-table -->\nold\n<!-- /study-table -->\nprose\n',
    );
    const rep = await studyReport(loadStudy(file, { out: runs }), { out: results });
    assert.equal(rep.runs, 3);
    for (const f of [
      'study.yaml',
      'summary.json',
      'report.html',
      'figure3-top1.svg',
      'figure4-angles.png',
      'table.md',
    ]) {
      assert.ok(existsSync(path.join(results, f)), f);
    }
    for (const f of ['config.yaml', 'metrics.jsonl', 'angles.jsonl', 'meta.json', 'status.json']) {
      assert.ok(existsSync(path.join(results, 'runs', 'kp-s1', f)), f);
    }
    assert.ok(!existsSync(path.join(results, 'runs', 'kp-s1', 'checkpoints')));
    const summary = JSON.parse(readFileSync(path.join(results, 'summary.json'), 'utf8'));
    const kp = summary.filter((x: { name: string }) => x.name.startsWith('kp-'));
    const rows = rep.table.split('\n');
    assert.match(rows[0], /\| run \| rule \| seeds .*\| paper \(top-1 %\) \|/);
    // the KP row pools its two seeds: mean ± sd of their own final errors
    const mean = (100 * (kp[0].final_top1 + kp[1].final_top1)) / 2;
    assert.match(
      rows.find((l) => l.startsWith('| kp '))!,
      new RegExp(`\\| kp \\| kp \\| 2 \\| .* \\| ${mean.toFixed(2)}( ± [\\d.]+)? \\|.*\\| 29\\.20 \\|`),
    );
    // the angles table: BP's B is W (0°), KP's starts near 90°; init, epoch 1 and end per variant
    assert.match(rep.table, /\| bp \| 0\.0 \(0\.0–0\.[01]\) \|/);
    const kpAngles = rep.table
      .split('\n')
      .filter((l) => l.startsWith('| kp |'))
      .at(-1)!;
    const initMatrix = Number(/^\| kp \| ([\d.]+) /.exec(kpAngles)![1]);
    assert.ok(initMatrix > 80 && initMatrix < 100, kpAngles);
    const readme = readFileSync(path.join(results, 'README.md'), 'utf8');
    assert.ok(readme.includes(rep.table) && !readme.includes('old') && readme.endsWith('prose\n'));
  });

  it('spliceTable leaves a README without markers alone', () => {
    assert.equal(spliceTable('# x\nno markers\n', '| a |\n'), null);
  });
});
