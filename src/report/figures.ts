/** Vega-Lite specs for the paper's figures, from run data. */
import { RULES } from '../rules/registry.js';
import type { RunData } from './read-run.js';
import type { SeedGroup } from './seeds.js';

type Spec = Record<string, unknown>;

const RULE_ORDER = RULES.map((r) => r.label);

type Split = 'train' | 'val';
interface ErrorPoint {
  split: Split;
  metric: string;
  epoch: number;
  error: number;
}

const METRICS = [
  { name: 'top-1 error', train: 'train_top1', val: 'val_top1' },
  { name: 'top-5 error', train: 'train_top5', val: 'val_top5' },
] as const;

/**
 * A run's error curves in %, as the paper's Figure 3 draws them: top-1 and top-5, on the
 * train split (the means over each epoch's batches) and on the val split (where evaluated).
 */
function errorCurves(run: RunData): ErrorPoint[] {
  return run.epochs.flatMap((r) =>
    METRICS.flatMap((m) =>
      (['train', 'val'] as const).flatMap((split) => {
        const x = r[m[split]];
        return x === null || x === undefined
          ? []
          : [{ split, metric: m.name, epoch: r.epoch, error: 100 * x }];
      }),
    ),
  );
}

const pointKey = (p: ErrorPoint) => `${p.split}|${p.metric}|${p.epoch.toFixed(6)}`;

const COLOR = {
  field: 'run',
  type: 'nominal',
  title: 'rule',
  sort: RULE_ORDER,
  legend: { labelLimit: 320, symbolOpacity: 1 },
};
const X = { field: 'epoch', type: 'quantitative', title: 'epoch' };
const Y_TITLE = 'error (%)';
const LINE = {
  mark: { type: 'line' },
  encoding: {
    x: X,
    y: { field: 'error', type: 'quantitative', title: Y_TITLE, scale: { zero: false } },
    color: COLOR,
    strokeDash: {
      field: 'split',
      type: 'nominal',
      title: 'split',
      sort: ['val', 'train'],
      legend: { symbolStrokeColor: '#444', symbolSize: 400 },
    },
  },
};

/**
 * Figure 3: top-1 and top-5 error (a panel each) vs epoch, train (dashed) and val
 * (solid), one colour per run; or, when some setting was run under several seeds
 * (`groups`), one colour per setting at the mean over its seeds with a min–max band,
 * over the epochs every seed reached.
 */
export function figure3(runs: RunData[], labels: string[], groups?: SeedGroup[]): Spec {
  const seeded = groups?.some((g) => g.members.length > 1) ?? false;
  const values = seeded
    ? groups!.flatMap((g) => {
        const curves = g.members.map((m) => new Map(errorCurves(runs[m]).map((p) => [pointKey(p), p])));
        return [...curves[0].values()].flatMap((p) => {
          const at = curves.map((c) => c.get(pointKey(p))?.error);
          if (at.some((x) => x === undefined)) return [];
          const xs = at as number[];
          const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
          return [{ run: g.label, ...p, error: mean, lo: Math.min(...xs), hi: Math.max(...xs) }];
        });
      })
    : runs.flatMap((run, i) => errorCurves(run).map((p) => ({ run: labels[i], ...p })));
  const band = {
    mark: { type: 'area', opacity: 0.2 },
    encoding: {
      x: X,
      y: { field: 'lo', type: 'quantitative', title: Y_TITLE, scale: { zero: false } },
      y2: { field: 'hi' },
      color: COLOR,
      detail: { field: 'split', type: 'nominal' },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Top-1 and top-5 error vs epoch, train and val (Figure 3)${seeded ? ': mean over seeds, band min–max' : ''}`,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: METRICS.map((m) => m.name) } },
    spec: { width: 360, height: 300, layer: seeded ? [band, LINE] : [LINE] },
    resolve: { scale: { y: 'independent' } },
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
