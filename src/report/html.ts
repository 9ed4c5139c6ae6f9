import type { RunSummary } from './read-run.js';
import type { MeanSd, SeedGroupSummary } from './seeds.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(2)}%`);

export function formatDuration(s: number | null): string {
  if (s === null) return '–';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(sec).padStart(2, '0')}s`
      : `${sec}s`;
}

const COLUMNS: [string, (r: RunSummary) => string][] = [
  ['run', (r) => r.name],
  ['rule', (r) => r.label],
  ['model', (r) => r.model],
  ['data', (r) => r.data],
  ['status', (r) => r.state],
  ['epochs', (r) => r.epochs.toFixed(2)],
  ['steps', (r) => String(r.steps)],
  ['final top-1', (r) => pct(r.final_top1)],
  ['best top-1', (r) => pct(r.best_top1)],
  ['final top-5', (r) => pct(r.final_top5)],
  ['best top-5', (r) => pct(r.best_top5)],
  ['wall time', (r) => formatDuration(r.wall_s)],
  ['img/s', (r) => (r.img_per_s === null ? '–' : r.img_per_s.toFixed(1))],
];

const pm = (x: MeanSd | null) =>
  x === null ? '–' : `${(100 * x.mean).toFixed(2)}%${x.sd === null ? '' : ` ± ${(100 * x.sd).toFixed(2)}`}`;

const SEED_COLUMNS: [string, (g: SeedGroupSummary) => string][] = [
  ['setting', (g) => g.label],
  ['seeds', (g) => g.seeds.map((s) => (s === null ? '?' : String(s))).join(', ')],
  ['final top-1', (g) => pm(g.final_top1)],
  ['best top-1', (g) => pm(g.best_top1)],
  ['final top-5', (g) => pm(g.final_top5)],
  ['best top-5', (g) => pm(g.best_top5)],
];

function table<T>(columns: [string, (r: T) => string][], rows: T[]): string {
  const head = columns.map(([h]) => `<th>${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map(([, f]) => `<td>${esc(f(r))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/**
 * A self-contained report page: the summary table, the same over seeds (mean ± sample sd)
 * when some setting ran under several, and the figures (inline SVG).
 */
export function reportHtml(
  summaries: RunSummary[],
  figures: { title: string; svg: string; png: string }[],
  bySetting: SeedGroupSummary[] = [],
): string {
  const seeds =
    bySetting.length > 0
      ? `<h2>Over seeds (mean ± sample standard deviation)</h2>\n${table(SEED_COLUMNS, bySetting)}\n`
      : '';
  const figs = figures
    .map(
      (f) =>
        `<figure>${f.svg}<figcaption>${esc(f.title)} (<a href="${esc(f.png)}">PNG</a>)</figcaption></figure>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wtrain report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 0 0 2em 0; }
</style>
</head>
<body>
<h1>wtrain report</h1>
<p>Errors on the val split (fractions shown as %). Generated ${esc(new Date().toISOString())}.</p>
${table(COLUMNS, summaries)}
${seeds}${figs}
</body>
</html>
`;
}
