/** `wtrain report`: Figures 3 and 4 of the paper for some runs, as SVG, PNG and report.html. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runPaths } from '../runner/rundir.js';
import { UserError } from '../util/errors.js';
import { figure3, figure4 } from './figures.js';
import { reportHtml } from './html.js';
import { type RunSummary, readRun, runLabels, summarize } from './read-run.js';
import { specToSvg, svgToPng } from './render.js';
import { seedGroups, summarizeGroups } from './seeds.js';

export interface ReportFiles {
  html: string;
  figures: string[];
  summary: RunSummary[];
}

/**
 * Of several folders, the run directories: one without config.yaml (the `report` folder
 * scripts/sweep.sh writes beside its runs, caught by `wtrain report runs/sweep-x/*`; a
 * plain file) is left out with a warning, and none left is an error. A single folder is
 * read as given (it must be a run directory).
 */
export function runDirsAmong(dirs: string[], warn: (line: string) => void): string[] {
  if (dirs.length <= 1) return dirs;
  const runs = dirs.filter((d) => {
    if (existsSync(runPaths(path.resolve(d)).config)) return true;
    const what = existsSync(path.join(d, 'report.html')) ? 'a report folder, ' : '';
    warn(`warning: ${d}: not a run directory (${what}no config.yaml); left out of the report`);
    return false;
  });
  if (runs.length === 0) {
    throw new UserError(`no run directory among ${dirs.join(', ')} (a run directory holds config.yaml)`);
  }
  return runs;
}

export async function renderReport(
  dirs: string[],
  outDir: string,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<ReportFiles> {
  const runs = runDirsAmong(dirs, warn).map((d) => readRun(d));
  const labels = runLabels(runs);
  const summary = runs.map((r, i) => summarize(r, labels[i]));
  const groups = seedGroups(runs);
  const seeded = groups.some((g) => g.members.length > 1);
  const bySetting = seeded ? summarizeGroups(groups, summary) : [];
  mkdirSync(outDir, { recursive: true });
  const specs = [
    { file: 'figure3-top1', title: 'Figure 3: top-1 error vs epoch', spec: figure3(runs, labels, groups) },
    { file: 'figure4-angles', title: 'Figure 4: matrix and δ angles per layer', spec: figure4(runs, labels) },
  ];
  const figures: { title: string; svg: string; png: string }[] = [];
  const files: string[] = [];
  for (const s of specs) {
    const svg = await specToSvg(s.spec);
    writeFileSync(path.join(outDir, `${s.file}.svg`), svg);
    writeFileSync(path.join(outDir, `${s.file}.png`), await svgToPng(svg));
    writeFileSync(path.join(outDir, `${s.file}.vl.json`), `${JSON.stringify(s.spec)}\n`);
    figures.push({ title: s.title, svg, png: `${s.file}.png` });
    files.push(path.join(outDir, `${s.file}.svg`), path.join(outDir, `${s.file}.png`));
  }
  const html = path.join(outDir, 'report.html');
  writeFileSync(html, reportHtml(summary, figures, bySetting));
  writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (seeded) writeFileSync(path.join(outDir, 'seeds.json'), `${JSON.stringify(bySetting, null, 2)}\n`);
  return { html, figures: files, summary };
}
