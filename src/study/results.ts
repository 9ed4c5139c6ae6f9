/**
 * `wtrain study report`: a study's results folder, rendered only from its runs' own files.
 *
 *   <results>/study.yaml           the study definition as run
 *   <results>/runs/<run>/          each run's config.yaml, metrics.jsonl, angles.jsonl, meta.json, status.json
 *   <results>/summary.json, figure3-*.svg|png, figure4-*.svg|png, report.html   (wtrain report over runs/)
 *   <results>/table.md             variant × final/best top-1 (mean ± sd over seeds) beside the references,
 *                                  and each variant's matrix and δ angles at init, after epoch 1 and at the end
 *
 * A README.md already in the folder gets the table between `<!-- study-table -->` and
 * `<!-- /study-table -->`, so the numbers in the prose are never typed by hand.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatDuration } from '../report/html.js';
import { renderReport } from '../report/index.js';
import { type RunSummary, readRun } from '../report/read-run.js';
import { type MeanSd, meanSd } from '../report/seeds.js';
import { runPaths } from '../runner/rundir.js';
import { UserError } from '../util/errors.js';
import { anglesTable } from './angles-table.js';
import type { Study } from './definition.js';

/** What a results folder keeps of each run (no checkpoints, no TensorBoard, no logs). */
export const RESULT_FILES = ['config.yaml', 'metrics.jsonl', 'angles.jsonl', 'meta.json', 'status.json'];

const TABLE_START = '<!-- study-table -->';
const TABLE_END = '<!-- /study-table -->';

export interface StudyReport {
  out: string;
  table: string;
  runs: number;
}

function pct(m: MeanSd | null): string {
  if (!m) return '—';
  const mean = (100 * m.mean).toFixed(2);
  return m.sd === null ? mean : `${mean} ± ${(100 * m.sd).toFixed(2)}`;
}

/** The markdown table: one row per variant, its seeds pooled (mean ± sample sd). */
export function studyTable(study: Study, summaries: RunSummary[], targetEpochs: Map<string, number>): string {
  const refs = Object.entries(study.references);
  const head = [
    'run',
    'rule',
    'seeds',
    'epochs',
    'final top-1 %',
    'best top-1 %',
    'final top-5 %',
    'wall time / run',
    ...refs.map(([title]) => `${title} (top-1 %)`),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const variants = [...new Set(study.runs.map((r) => r.variant))];
  for (const v of variants) {
    const names = study.runs.filter((r) => r.variant === v).map((r) => r.name);
    const rows = summaries.filter((s) => names.includes(s.name));
    if (rows.length === 0) continue;
    const done = rows.filter((r) => r.state === 'done').length;
    const target = Math.max(...names.map((n) => targetEpochs.get(n) ?? 0));
    const epochs = rows.map((r) => r.epochs);
    const epochText =
      done === rows.length
        ? `${target}`
        : `${Math.min(...epochs).toFixed(1)} of ${target} (${rows.length - done} unfinished)`;
    const wall = meanSd(rows.map((r) => r.wall_s));
    lines.push(
      `| ${[
        v,
        rows[0].rule,
        `${rows.length}`,
        epochText,
        pct(meanSd(rows.map((r) => r.final_top1))),
        pct(meanSd(rows.map((r) => r.best_top1))),
        pct(meanSd(rows.map((r) => r.final_top5))),
        formatDuration(wall?.mean ?? null),
        ...refs.map(([, r]) => (r[v] === undefined ? '—' : r[v].toFixed(2))),
      ].join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Put `table` between the markers of an existing README (nothing else changes). */
export function spliceTable(readme: string, table: string): string | null {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) return null;
  return `${readme.slice(0, a + TABLE_START.length)}\n${table}${readme.slice(b)}`;
}

export async function studyReport(study: Study, opts: { out?: string } = {}): Promise<StudyReport> {
  const out = path.resolve(opts.out ?? study.results);
  const started = study.runs.filter((r) => existsSync(runPaths(r.dir).config));
  if (started.length === 0) {
    throw new UserError(
      `study ${study.name}: no run has started yet in ${study.out}: run \`wtrain study run ${path.relative(process.cwd(), study.file)}\` first`,
    );
  }
  const dirs: string[] = [];
  const targetEpochs = new Map<string, number>();
  // Only this study's current runs: folders of runs since renamed or removed go.
  rmSync(path.join(out, 'runs'), { recursive: true, force: true });
  rmSync(path.join(out, 'seeds.json'), { force: true });
  for (const run of started) {
    const dest = path.join(out, 'runs', run.name);
    mkdirSync(dest, { recursive: true });
    for (const f of RESULT_FILES) {
      const src = path.join(run.dir, f);
      if (existsSync(src)) copyFileSync(src, path.join(dest, f));
    }
    const cfg = parseYaml(readFileSync(path.join(dest, 'config.yaml'), 'utf8')) as {
      train?: { epochs?: number };
    };
    targetEpochs.set(run.name, Number(cfg?.train?.epochs ?? 0));
    dirs.push(dest);
  }
  copyFileSync(study.file, path.join(out, 'study.yaml'));
  const report = await renderReport(dirs, out);
  const angles = anglesTable(
    study,
    dirs.map((d) => readRun(d)),
  );
  const table = `${studyTable(study, report.summary, targetEpochs)}\nMatrix and δ angles in degrees, mean over layers (range across layers), of each variant's first run, at the logged points nearest epochs 0 and 1 and the last; the numbers behind Figure 4:\n\n${angles}`;
  writeFileSync(path.join(out, 'table.md'), table);
  const readme = path.join(out, 'README.md');
  if (existsSync(readme)) {
    const next = spliceTable(readFileSync(readme, 'utf8'), table);
    if (next !== null) writeFileSync(readme, next);
  }
  return { out, table, runs: dirs.length };
}
