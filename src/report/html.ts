import type { RunSummary } from './read-run.js';

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

/** A self-contained report page: the summary table and the figures (inline SVG). */
export function reportHtml(
  summaries: RunSummary[],
  figures: { title: string; svg: string; png: string }[],
): string {
  const head = COLUMNS.map(([h]) => `<th>${esc(h)}</th>`).join('');
  const rows = summaries
    .map((s) => `<tr>${COLUMNS.map(([, f]) => `<td>${esc(f(s))}</td>`).join('')}</tr>`)
    .join('\n');
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
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
${figs}
</body>
</html>
`;
}
