/** The command line: usage errors, config errors and exit codes (no training). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../../src/util/errors.js';
import { runMain, wtrain } from './helpers.js';

const noStack = (s: string) => assert.ok(!/\n\s+at .+:\d+:\d+/.test(s), `stack trace in:\n${s}`);

describe('wtrain CLI', () => {
  it('bin/wtrain.js: --help exits 0 and a config mistake exits 2', async () => {
    const h = await wtrain(['--help']);
    assert.equal(h.code, 0);
    for (const c of ['run', 'resume', 'eval', 'list', 'report', 'config'])
      assert.match(h.stdout, new RegExp(`\\b${c}\\b`));
    const bad = await wtrain(['config', 'configs/quickstart.yaml', '--set', 'model.widht=1']);
    assert.equal(bad.code, EXIT.USAGE);
    assert.equal(bad.stderr, "--set model.widht=1 model.widht: unknown key (did you mean 'width'?)\n");
  });

  it('usage mistakes exit 2', async () => {
    const r1 = await runMain(['frobnicate']);
    assert.equal(r1.code, EXIT.USAGE);
    assert.match(r1.stderr, /unknown command/);
    const r2 = await runMain(['run', 'configs/quickstart.yaml', '--resume', 'sometimes']);
    assert.equal(r2.code, EXIT.USAGE);
    assert.match(r2.stderr, /Allowed choices are auto, never/);
  });

  it('config mistakes print one line per problem, no stack, exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-cli-'));
    const f = path.join(dir, 'bad.yaml');
    writeFileSync(f, 'data:\n  source: mnist\nmodel:\n  widht: 2\ntrain:\n  epochs: x\n');
    const r = await runMain(['run', f, '--set', 'rule.name=zz', '--run-dir', path.join(dir, 'run')]);
    assert.equal(r.code, EXIT.USAGE);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.ok(
      lines.some((l) => /bad\.yaml:4:3 model\.widht: unknown key \(did you mean 'width'\?\)/.test(l)),
    );
    assert.ok(lines.some((l) => /bad\.yaml:6:11 train\.epochs: expected a number, got 'x'/.test(l)));
    assert.ok(lines.some((l) => /--set rule\.name=zz rule\.name: expected one of/.test(l)));
    noStack(r.stderr);
    const missing = await runMain(['run', path.join(dir, 'nope.yaml')]);
    assert.equal(missing.code, EXIT.USAGE);
    assert.match(missing.stderr, /nope\.yaml: config file not found/);
    noStack(missing.stderr);
  });

  it('config prints the resolved config', async () => {
    const r = await runMain(['config', 'configs/resnet18-kp.yaml', '--smoke', '--set', 'train.seed=5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}seed: 5$/m);
    assert.match(r.stdout, /^ {2}name: kp$/m);
    assert.match(r.stdout, /mnist-sample/);
  });

  it('list, report, eval and resume on things that are not runs exit 2 with a message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-cli-'));
    mkdirSync(path.join(dir, 'empty'));
    const l = await runMain(['list', dir]);
    assert.equal(l.code, 0);
    assert.match(l.stdout, /no runs in/);
    for (const args of [
      ['report', path.join(dir, 'empty')],
      ['eval', path.join(dir, 'empty')],
      ['resume', path.join(dir, 'empty')],
      ['list', path.join(dir, 'nothing')],
    ]) {
      const r = await runMain(args);
      assert.equal(r.code, EXIT.USAGE, `${args.join(' ')}: ${r.stderr}`);
      noStack(r.stderr);
    }
  });
});
