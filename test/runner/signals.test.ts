/** SIGINT/SIGTERM: finish the step, checkpoint, exit 75; a second signal exits at once (130/143). */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runPaths } from '../../src/runner/rundir.js';
import { runFromConfig } from '../../src/runner/session.js';
import { EXIT } from '../../src/util/errors.js';
import { fakeStack } from './fake-stack.js';
import { quietOpts, tempDir, writeConfig } from './helpers.js';

describe('signals', () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig}: the step finishes, a checkpoint is written, exit ${EXIT.INTERRUPTED}`, async () => {
      const dir = tempDir();
      const engine = fakeStack({ onStep: (s) => s === 6 && process.kill(process.pid, sig) });
      const r = await runFromConfig(
        { configFile: writeConfig(dir), runDir: path.join(dir, 'run') },
        { ...quietOpts, stack: engine, signals: true },
      );
      assert.equal(r.exitCode, EXIT.INTERRUPTED);
      const status = JSON.parse(readFileSync(runPaths(r.runDir).status, 'utf8'));
      assert.equal(status.status, 'interrupted');
      assert.equal(status.exit_code, 75);
      assert.match(status.message, new RegExp(`${sig}: stopped after writing .*ckpt-00000000[67]\\.wtc`));
      assert.equal(process.listenerCount(sig), 0, 'handlers removed');
    });
  }

  it('a second SIGINT exits at once with 130', () => {
    const script = `
      import { StopSignal } from './src/runner/signals.ts';
      new StopSignal().install();
      process.kill(process.pid, 'SIGINT');
      setTimeout(() => process.kill(process.pid, 'SIGINT'), 50);
      setTimeout(() => process.exit(0), 5000);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    assert.equal(r.status, EXIT.SIGINT_FORCED, r.stderr);
  });

  it('the parent exiting (npx killed, node orphaned) counts as a SIGHUP stop request', async () => {
    const out = path.join(tempDir(), 'seen');
    const script = `
      import { writeFileSync } from 'node:fs';
      import { StopSignal } from './src/runner/signals.ts';
      const stop = new StopSignal().install();
      process.stdout.write('ready\\n');
      const t = setInterval(() => {
        if (stop.requested) { writeFileSync(${JSON.stringify(out)}, stop.requested); process.exit(0); }
      }, 50);
      setTimeout(() => process.exit(1), 8000);
    `;
    // sh starts node in the background and waits; killing sh orphans node, as killing npx does.
    const sh = spawn('sh', ['-c', 'node --import tsx --input-type=module -e "$0" & wait', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => sh.stdout.once('data', resolve));
    sh.kill('SIGKILL');
    for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(out) ? readFileSync(out, 'utf8') : 'not seen in 5 s', 'SIGHUP');
  });
});
