/** scripts/sweep.sh with a stub wtrain: the loop, skipping finished runs, stopping on exit 75. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';

/** A stand-in for bin/wtrain.js: logs its arguments; `rules` knows fa and kp; `run` marks the run done, or exits 75 for rule ss. */
function stub(dir: string): string {
  const file = path.join(dir, 'wtrain-stub.sh');
  writeFileSync(
    file,
    `#!/usr/bin/env bash
echo "$*" >> "${dir}/calls.log"
[ "$1" = rules ] && { echo "fa kp"; exit 0; }
[ "$1" = run ] || exit 0
while [ $# -gt 0 ]; do [ "$1" = --run-dir ] && rd=$2; shift; done
mkdir -p "$rd"; echo '{}' > "$rd/metrics.jsonl"
case "$rd" in *-ss-*) [ -f "${dir}/ss-fails" ] && exit 75;; esac
echo '{ "status": "done" }' > "$rd/status.json"
`,
  );
  chmodSync(file, 0o755);
  return file;
}

const sweep = (dir: string, args: string[]) =>
  spawnSync('bash', [path.join(ROOT, 'scripts', 'sweep.sh'), ...args], {
    cwd: dir,
    env: { ...process.env, WTRAIN: stub(dir) },
    encoding: 'utf8',
  });

describe('scripts/sweep.sh', () => {
  it('runs rules x seeds, then a report; a second sweep skips finished runs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-sweep-'));
    mkdirSync(path.join(dir, 'configs'));
    const r = sweep(dir, [
      '-c',
      'configs/quickstart.yaml',
      '-r',
      'bp kp',
      '-s',
      '0 1',
      '-o',
      'out',
      '--',
      '--smoke',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const calls = readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n');
    assert.equal(calls.length, 5);
    assert.match(
      calls[0],
      /^run configs\/quickstart\.yaml --set rule\.name=bp --set train\.seed=0 --run-dir out\/quickstart-bp-s0 --resume auto --no-report --smoke$/,
    );
    assert.match(calls[3], /--set rule\.name=kp --set train\.seed=1 --run-dir out\/quickstart-kp-s1 /);
    assert.match(
      calls[4],
      /^report out\/quickstart-bp-s0 out\/quickstart-bp-s1 out\/quickstart-kp-s0 out\/quickstart-kp-s1 --out out\/report$/,
    );
    const again = sweep(dir, ['-c', 'configs/quickstart.yaml', '-r', 'bp kp', '-s', '0 1', '-o', 'out']);
    assert.equal(again.status, 0);
    assert.equal((again.stdout.match(/done, skipping/g) ?? []).length, 4);
  });

  it('without -r, sweeps the rules `wtrain rules --names` lists', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-sweep-'));
    const r = sweep(dir, ['-c', 'configs/quickstart.yaml', '-o', 'out']);
    assert.equal(r.status, 0, r.stderr);
    const calls = readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n');
    assert.equal(calls[0], 'rules --names');
    assert.match(calls[1], /--set rule\.name=fa /);
    assert.match(calls[2], /--set rule\.name=kp /);
    assert.match(calls[3], /^report out\/quickstart-fa-s0 out\/quickstart-kp-s0 /);
    // with {rule} in the config name, a rule without such a file is left out (no ImageNet DFA preset)
    mkdirSync(path.join(dir, 'configs'));
    writeFileSync(path.join(dir, 'configs', 'resnet18-kp.yaml'), '');
    const presets = sweep(dir, ['-c', 'configs/resnet18-{rule}.yaml', '-o', 'out']);
    assert.equal(presets.status, 0, presets.stderr);
    assert.match(presets.stdout, /no configs\/resnet18-fa\.yaml, leaving out fa/);
    const runs = readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n').slice(4);
    assert.deepEqual(
      runs.map((c) => c.split(' ').slice(0, 2).join(' ')),
      ['rules --names', 'run configs/resnet18-kp.yaml', 'report out/resnet18-kp-s0'],
    );
  });

  it('{rule} in the config name picks per-rule presets; an interrupted run stops the sweep with 75', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-sweep-'));
    writeFileSync(path.join(dir, 'ss-fails'), '');
    const r = sweep(dir, ['-c', 'configs/resnet18-{rule}.yaml', '-r', 'fa ss wm', '-o', 'out']);
    assert.equal(r.status, 75);
    const calls = readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n');
    assert.equal(calls.length, 2);
    assert.match(
      calls[0],
      /^run configs\/resnet18-fa\.yaml --set train\.seed=0 --run-dir out\/resnet18-fa-s0 /,
    );
    assert.match(r.stderr, /resnet18-ss-s0 was interrupted/);
  });
});
