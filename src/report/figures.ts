/** Vega-Lite specs for the paper's figures, from run data. */
import type { RunData } from './read-run.js';

type Spec = Record<string, unknown>;

const RULE_ORDER = ['BP', 'FA', 'SS', 'WM', 'KP'];

/** Figure 3: top-1 error (val; train where a run has no evaluation) vs epoch, one line per run. */
export function figure3(runs: RunData[], labels: string[]): Spec {
  const values = runs.flatMap((run, i) => {
    const hasVal = run.epochs.some((r) => r.val_top1 !== null);
    return run.epochs
      .map((r) => ({
        run: labels[i],
        epoch: r.epoch,
        split: hasVal ? 'val' : 'train',
        top1: hasVal ? r.val_top1 : r.train_top1,
      }))
      .filter((r) => r.top1 !== null)
      .map((r) => ({ ...r, top1: 100 * (r.top1 as number) }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Top-1 error vs epoch (Figure 3)',
    width: 520,
    height: 320,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'top1', type: 'quantitative', title: 'top-1 error (%)', scale: { zero: false } },
      color: { field: 'run', type: 'nominal', title: 'rule', sort: RULE_ORDER },
      strokeDash: { field: 'split', type: 'nominal', title: 'split' },
    },
  };
}

/** Figure 4: matrix and δ angles per layer vs epoch; one column per run, layers coloured input→output. */
export function figure4(runs: RunData[], labels: string[]): Spec {
  const values = runs.flatMap((run, i) =>
    run.angles.flatMap((a) => [
      {
        run: labels[i],
        measure: 'matrix angle',
        layer: a.layer,
        index: a.index,
        epoch: a.epoch,
        angle: a.matrix_angle,
      },
      {
        run: labels[i],
        measure: 'δ angle',
        layer: a.layer,
        index: a.index,
        epoch: a.epoch,
        angle: a.delta_angle,
      },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Matrix and δ angles per layer (Figure 4)',
    data: { values },
    facet: {
      column: { field: 'run', type: 'nominal', title: null, sort: RULE_ORDER },
      row: { field: 'measure', type: 'nominal', title: null, sort: ['matrix angle', 'δ angle'] },
    },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'angle', type: 'quantitative', title: 'angle (degrees)', scale: { zero: true } },
        color: {
          field: 'index',
          type: 'quantitative',
          title: 'layer (in → out)',
          scale: { scheme: 'viridis' },
        },
        detail: { field: 'layer', type: 'nominal' },
      },
    },
  };
}
