/**
 * The angles of a study at a glance (the numbers behind Figure 4): per variant, the matrix
 * angle ∠(B, W) and the δ angle ∠(δ_rule, δ_BP) at initialisation, after the first epoch
 * and at the end, each as the mean over layers with the range across layers.
 */
import type { RunData } from '../report/read-run.js';
import type { AngleRecord } from '../runner/metrics-log.js';
import type { Study } from './definition.js';

type Pick = (a: AngleRecord) => number | null;

function summary(recs: AngleRecord[], pick: Pick): string {
  const v = recs.map(pick).filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return '—';
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return `${mean.toFixed(1)} (${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)})`;
}

/** The records of the logged step nearest `epoch` (every layer's), or of the last step for Infinity. */
function at(angles: AngleRecord[], epoch: number): AngleRecord[] {
  if (angles.length === 0) return [];
  let best = angles[0];
  for (const a of angles) {
    if (
      Math.abs(a.epoch - epoch) < Math.abs(best.epoch - epoch) ||
      (epoch === Infinity && a.step >= best.step)
    )
      best = a;
  }
  return angles.filter((a) => a.step === best.step && a.epoch === best.epoch);
}

/** One row per variant (its first run): angles in degrees, mean over layers (min–max). */
export function anglesTable(study: Study, runs: RunData[]): string {
  const head = [
    'run',
    'matrix ∠ at init',
    'matrix ∠ after epoch 1',
    'matrix ∠ at end',
    'δ ∠ at init',
    'δ ∠ after epoch 1',
    'δ ∠ at end',
    'end at epoch',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const variant of new Set(study.runs.map((r) => r.variant))) {
    const names = study.runs.filter((r) => r.variant === variant).map((r) => r.name);
    const run = runs.find((r) => names.includes(r.name) && r.angles.length > 0);
    if (!run) continue;
    const points = [at(run.angles, 0), at(run.angles, 1), at(run.angles, Infinity)];
    const matrix: Pick = (a) => a.matrix_angle;
    const delta: Pick = (a) => a.delta_angle;
    lines.push(
      `| ${[
        variant,
        ...points.map((p) => summary(p, matrix)),
        ...points.map((p) => summary(p, delta)),
        points[2][0].epoch.toFixed(2),
      ].join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
