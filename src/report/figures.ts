/** Vega-Lite specs for the paper's figures, from run data. */
import { RULES } from '../rules/registry.js';
import type { RunData } from './read-run.js';
import type { SeedGroup } from './seeds.js';

type Spec = Record<string, unknown>;

const RULE_ORDER = RULES.map((r) => r.label);

/** A run's top-1 error curve in %: val where it was evaluated, else train. */
function errorCurve(run: RunData, split: 'val' | 'train'): { epoch: number; top1: number }[] {
  return run.epochs
    .map((r) => ({ epoch: r.epoch, top1: split === 'val' ? r.val_top1 : r.train_top1 }))
    .filter((r): r is { epoch: number; top1: number } => r.top1 !== null)
    .map((r) => ({ ...r, top1: 100 * r.top1 }));
}

const hasVal = (run: RunData) => run.epochs.some((r) => r.val_top1 !== null);

const AXES = {
  x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
  color: { field: 'run', type: 'nominal', title: 'rule', sort: RULE_ORDER },
};
const Y_TITLE = 'top-1 error (%)';

/**
 * Figure 3: top-1 error (val; train where a run has no evaluation) vs epoch, one line per
 * run; or, when some setting was run under several seeds (`groups`), one line per setting
 * at the mean over its seeds with a min–max band, over the epochs every seed reached.
 */
export function figure3(runs: RunData[], labels: string[], groups?: SeedGroup[]): Spec {
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 520, height: 320 };
  if (!groups?.some((g) => g.members.length > 1)) {
    const values = runs.flatMap((run, i) => {
      const split = hasVal(run) ? 'val' : 'train';
      return errorCurve(run, split).map((r) => ({ run: labels[i], split, ...r }));
    });
    return {
      ...base,
      title: 'Top-1 error vs epoch (Figure 3)',
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        ...AXES,
        y: { field: 'top1', type: 'quantitative', title: Y_TITLE, scale: { zero: false } },
        strokeDash: { field: 'split', type: 'nominal', title: 'split' },
      },
    };
  }
  const values = groups.flatMap((g) => {
    const members = g.members.map((m) => runs[m]);
    const split = members.every(hasVal) ? 'val' : 'train';
    const curves = members.map((r) => new Map(errorCurve(r, split).map((p) => [p.epoch.toFixed(6), p])));
    return [...curves[0].values()].flatMap((p) => {
      const at = curves.map((c) => c.get(p.epoch.toFixed(6))?.top1);
      if (at.some((x) => x === undefined)) return [];
      const xs = at as number[];
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return [{ run: g.label, split, epoch: p.epoch, top1: mean, lo: Math.min(...xs), hi: Math.max(...xs) }];
    });
  });
  return {
    ...base,
    title: 'Top-1 error vs epoch (Figure 3): mean over seeds, band min–max',
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: {
          ...AXES,
          y: { field: 'lo', type: 'quantitative', title: Y_TITLE, scale: { zero: false } },
          y2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          ...AXES,
          y: { field: 'top1', type: 'quantitative', title: Y_TITLE, scale: { zero: false } },
          strokeDash: { field: 'split', type: 'nominal', title: 'split' },
        },
      },
    ],
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
