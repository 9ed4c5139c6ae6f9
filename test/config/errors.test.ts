/** Malformed configs: every message names the file, line:column, key and what was expected. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const DATA = 'data:\n  source: mnist\n';

interface Case {
  name: string;
  files: Record<string, string>;
  sets?: string[];
  smoke?: boolean;
  /** Substrings (or patterns) the error must contain, one per expected problem line. */
  expect: (string | RegExp)[];
}

const cases: Case[] = [
  {
    name: 'wrong type',
    files: { 'c.yaml': `${DATA}train:\n  epochs: ten\n` },
    expect: ["c.yaml:4:11 train.epochs: expected a number, got 'ten'"],
  },
  {
    name: 'unknown top-level key',
    files: { 'c.yaml': `${DATA}modle:\n  width: 1\n` },
    expect: ["c.yaml:3:1 modle: unknown key (did you mean 'model'?)"],
  },
  {
    name: 'unknown nested key',
    files: { 'c.yaml': `${DATA}model:\n  widht: 0.5\n` },
    expect: ["c.yaml:4:3 model.widht: unknown key (did you mean 'width'?)"],
  },
  {
    name: 'unknown deep key',
    files: { 'c.yaml': `${DATA}rule:\n  wm:\n    eta: 0.1\n` },
    expect: ["c.yaml:5:5 rule.wm.eta: unknown key (did you mean 'eta_b'?)"],
  },
  {
    name: 'unknown key without a near match lists the keys',
    files: { 'c.yaml': `${DATA}train:\n  zzzzzz: 1\n` },
    expect: [/c\.yaml:4:3 train\.zzzzzz: unknown key \(expected one of: epochs, batch_size/],
  },
  {
    name: 'bad enum',
    files: { 'c.yaml': `${DATA}rule:\n  name: xp\n` },
    expect: ["c.yaml:4:9 rule.name: expected one of 'bp', 'fa', 'ss', 'wm', 'kp', 'dfa', got 'xp'"],
  },
  {
    name: 'number above maximum',
    files: { 'c.yaml': `${DATA}optimizer:\n  momentum: 2\n` },
    expect: ['c.yaml:4:13 optimizer.momentum: expected a number <= 1, got 2'],
  },
  {
    name: 'integer expected',
    files: { 'c.yaml': `${DATA}train:\n  batch_size: 1.5\n` },
    expect: ['c.yaml:4:15 train.batch_size: expected an integer, got 1.5'],
  },
  {
    name: 'section is a scalar',
    files: { 'c.yaml': `${DATA}model: 5\n` },
    expect: ['c.yaml:3:8 model: expected a mapping, got 5'],
  },
  {
    name: 'list expected',
    files: { 'c.yaml': `${DATA}schedule:\n  decay_epochs: 32\n` },
    expect: ['c.yaml:4:17 schedule.decay_epochs: expected a list, got 32'],
  },
  {
    name: 'bad list element',
    files: { 'c.yaml': `${DATA}schedule:\n  decay_epochs: [32, x]\n` },
    expect: ["c.yaml:4:22 schedule.decay_epochs.1: expected a number, got 'x'"],
  },
  {
    name: 'union (auto or number)',
    files: { 'c.yaml': `${DATA}optimizer:\n  lr: fast\n` },
    expect: ["c.yaml:4:7 optimizer.lr: expected 'auto' or a number, got 'fast'"],
  },
  {
    name: 'boolean expected (yes is a string in YAML 1.2)',
    files: { 'c.yaml': `${DATA}optimizer:\n  nesterov: yes\n` },
    expect: ["c.yaml:4:13 optimizer.nesterov: expected true or false, got 'yes'"],
  },
  {
    name: 'missing required key',
    files: { 'c.yaml': 'data:\n  path: x\n' },
    expect: [/c\.yaml:2:3 data\.source: expected one of 'mnist'.*it is missing/],
  },
  {
    name: 'missing required section',
    files: { 'c.yaml': 'train:\n  epochs: 1\n' },
    expect: [/c\.yaml:1:1 data: expected a mapping, it is missing/],
  },
  {
    name: 'bad run name',
    files: { 'c.yaml': `${DATA}name: a/b\n` },
    expect: [/c\.yaml:3:7 name: expected letters, digits.*got 'a\/b'/],
  },
  {
    name: 'two problems at once',
    files: { 'c.yaml': `${DATA}train:\n  epochs: -1\n  seeed: 2\n` },
    expect: [
      'c.yaml:4:11 train.epochs: expected a number > 0, got -1',
      "c.yaml:5:3 train.seeed: unknown key (did you mean 'seed'?)",
    ],
  },
  {
    name: 'YAML syntax error',
    files: { 'c.yaml': `${DATA}train:\n  epochs: [1, 2\n` },
    expect: [/c\.yaml:\d+:\d+: YAML syntax error/],
  },
  {
    name: 'duplicate key',
    files: { 'c.yaml': `${DATA}train:\n  epochs: 1\n  epochs: 2\n` },
    expect: [/c\.yaml:5:3: YAML syntax error: Map keys must be unique/],
  },
  {
    name: 'top level is not a mapping',
    files: { 'c.yaml': '- a\n- b\n' },
    expect: ['c.yaml:1:1: expected a mapping of sections'],
  },
  {
    name: 'missing extends file',
    files: { 'c.yaml': `extends: base.yaml\n${DATA}` },
    expect: [/c\.yaml:1:10 extends: file not found: .*base\.yaml/],
  },
  {
    name: 'extends cycle',
    files: { 'a.yaml': `extends: b.yaml\n${DATA}`, 'b.yaml': 'extends: a.yaml\n' },
    expect: [/b\.yaml:1:10 extends: extends cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml/],
  },
  {
    name: 'extends itself',
    files: { 'c.yaml': `extends: c.yaml\n${DATA}` },
    expect: [/c\.yaml:1:10 extends: extends cycle/],
  },
  {
    name: 'extends is not a file name',
    files: { 'c.yaml': `extends: 3\n${DATA}` },
    expect: ['c.yaml:1:10 extends: expected a file name or a list of file names'],
  },
  {
    name: 'problem located in the parent file',
    files: { 'c.yaml': `extends: base.yaml\n${DATA}`, 'base.yaml': 'model:\n  depth: 50\n' },
    expect: ['base.yaml:2:3 model.depth: unknown key'],
  },
  {
    name: 'child overrides located in the child',
    files: {
      'c.yaml': `extends: base.yaml\nmodel:\n  width: wide\n`,
      'base.yaml': `${DATA}model:\n  width: 1\n`,
    },
    expect: ["c.yaml:3:10 model.width: expected a number, got 'wide'"],
  },
  {
    name: '--set without =',
    files: { 'c.yaml': DATA },
    sets: ['model.width'],
    expect: ['--set model.width: expected key.path=value'],
  },
  {
    name: '--set unknown key',
    files: { 'c.yaml': DATA },
    sets: ['model.widht=2'],
    expect: ["--set model.widht=2 model.widht: unknown key (did you mean 'width'?)"],
  },
  {
    name: '--set wrong type',
    files: { 'c.yaml': DATA },
    sets: ['train.epochs=many'],
    expect: ["--set train.epochs=many train.epochs: expected a number, got 'many'"],
  },
  {
    name: '--set bad key path',
    files: { 'c.yaml': DATA },
    sets: ['model..width=1'],
    expect: ['--set model..width=1 model..width: expected a dotted key path'],
  },
  {
    name: '--set into a value',
    files: { 'c.yaml': DATA },
    sets: ['model.arch.depth=50'],
    expect: ["--set model.arch.depth=50 model.arch: expected one of 'resnet18'"],
  },
  {
    name: 'smoke section is not a mapping',
    files: { 'c.yaml': `${DATA}smoke: yes\n` },
    expect: ['c.yaml:3:8 smoke: expected a mapping of overrides'],
  },
  {
    name: 'bad key in the smoke section (checked without --smoke too)',
    files: { 'c.yaml': `${DATA}smoke:\n  train:\n    max_step: 3\n` },
    expect: ["c.yaml:5:5 train.max_step: unknown key (did you mean 'max_steps'?)"],
  },
  {
    name: 'decay epochs out of order',
    files: { 'c.yaml': `${DATA}schedule:\n  decay_epochs: [20, 10]\ntrain:\n  epochs: 30\n` },
    expect: ['c.yaml:4:22 schedule.decay_epochs.1: expected epochs in increasing order, got 10 after 20'],
  },
  {
    name: 'decay epoch after the last epoch',
    files: { 'c.yaml': `${DATA}schedule:\n  decay_epochs: [10, 40]\ntrain:\n  epochs: 30\n` },
    expect: [
      'c.yaml:4:22 schedule.decay_epochs.1: expected an epoch <= train.epochs (30, set at ',
      /c\.yaml:6:11\), got 40: the decay would never happen/,
    ],
  },
  {
    name: 'a run shortened with --set below its decays',
    files: { 'c.yaml': `${DATA}schedule:\n  decay_epochs: [3]\ntrain:\n  epochs: 4\n` },
    sets: ['train.epochs=2'],
    expect: [
      'c.yaml:4:18 schedule.decay_epochs.0: expected an epoch <= train.epochs (2, set at --set train.epochs=2), got 3',
    ],
  },
  {
    name: 'data section custom refinement',
    files: { 'c.yaml': `${DATA}  rrc_scale: [0.9, 0.1]\n` },
    expect: ['c.yaml:3:14 data.rrc_scale: expected [min, max] with min <= max'],
  },
];

function writeCase(c: Case): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-cfg-'));
  for (const [name, text] of Object.entries(c.files)) writeFileSync(path.join(dir, name), text);
  return path.join(dir, Object.keys(c.files)[0]);
}

describe('config errors', () => {
  it('has at least 20 cases', () => assert.ok(cases.length >= 20));
  for (const c of cases) {
    it(c.name, () => {
      const file = writeCase(c);
      let err: unknown;
      try {
        loadConfig(file, { sets: c.sets, smoke: c.smoke });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
      const lines = err.message.split('\n');
      for (const want of c.expect) {
        const hit = lines.some((l) => (typeof want === 'string' ? l.includes(want) : want.test(l)));
        assert.ok(hit, `no line matches ${want}:\n${err.message}`);
      }
      assert.ok(!/\n\s+at /.test(err.message), 'no stack trace in the message');
    });
  }

  it('one tab gives one error', () => {
    const file = writeCase({
      name: '',
      files: { 'c.yaml': `${DATA}train:\n\tepochs: 3\n  batch_size: 4\n` },
      expect: [],
    });
    assert.throws(
      () => loadConfig(file),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^\S+c\.yaml:4:1: YAML syntax error: Tabs are not allowed as indentation$/.test(e.message),
    );
  });

  it('decay epochs: fractional ones are fine; the default and saved run configs are not held to train.epochs', () => {
    const ok = (text: string, opts = {}) =>
      loadConfig(writeCase({ name: '', files: { 'c.yaml': text }, expect: [] }), opts);
    assert.deepEqual(
      ok(`${DATA}schedule:\n  decay_epochs: [7.5, 11.25]\ntrain:\n  epochs: 15\n`).config.schedule
        .decay_epochs,
      [7.5, 11.25],
    );
    // The paper's 32/62/82 are the default; a 2-epoch run without a schedule never reaches them.
    assert.equal(ok(`${DATA}train:\n  epochs: 2\n`).config.train.epochs, 2);
    // A run directory's config.yaml spells every default out.
    assert.equal(
      ok(`${DATA}schedule:\n  decay_epochs: [32]\ntrain:\n  epochs: 2\n`, { saved: true }).config.train
        .epochs,
      2,
    );
    assert.throws(() => ok(`${DATA}schedule:\n  decay_epochs: [5, 5]\n`), /increasing order, got 5 after 5/);
  });

  it('missing config file', () => {
    assert.throws(() => loadConfig('/nonexistent/x.yaml'), /\/nonexistent\/x\.yaml: config file not found/);
  });
});
