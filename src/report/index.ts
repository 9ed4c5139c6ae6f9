/** `wtrain report`: Figures 3 and 4 of the paper for some runs, as SVG, PNG and report.html. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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

export async function renderReport(runDirs: string[], outDir: string): Promise<ReportFiles> {
  const runs = runDirs.map((d) => readRun(d));
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
