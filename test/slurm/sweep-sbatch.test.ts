/**
 * scripts/slurm/sweep.sbatch on a real one-node Slurm (slurmctld + slurmd, started and
 * stopped by scripts/slurm/check.sh) with a stand-in for wtrain (`--stub`): a user's
 * `scancel` stops a task for good (it used to be requeued), and a SIGTERM that reaches
 * the batch script as it starts requeues the task (it used to end FAILED, exit 143).
 * Skipped, saying why, without Slurm (`apt-get install -y slurm-wlm`) or root. The full
 * check with the real quickstart and every case: `scripts/slurm/check.sh`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const missing = ['slurmctld', 'slurmd', 'sbatch', 'munge'].filter(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
);
const skip =
  missing.length > 0
    ? `Slurm is not installed (no ${missing.join(', ')}): apt-get install -y slurm-wlm`
    : process.getuid?.() !== 0
      ? 'needs root (starts slurmctld and slurmd)'
      : false;

it('sweep.sbatch: scancel is not requeued; a SIGTERM before wtrain runs is', {
  skip,
  timeout: 240_000,
}, () => {
  const r = spawnSync(path.join(ROOT, 'scripts/slurm/check.sh'), ['--stub', 'cancel', 'early-term'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /PASS cancel/);
  assert.match(out, /PASS early-term/);
});
