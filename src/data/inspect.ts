/**
 * `wtrain data inspect`: what a dataset is (format, classes, samples per split), what
 * its images look like (size histogram, colour spaces) and how many are unreadable.
 * Image headers are read for a sample of each split (all with `all`), and those images
 * are decoded through the eval transform to count corrupt ones.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { type DataConfig, dataConfigSchema, sourceSplitOf } from './config.js';
import { DataError, type DataLogger, errorMessage, SkipLog } from './errors.js';
import { inflateHead, isGzip } from './formats/compression.js';
import { looksLikeTar } from './formats/tar-index.js';
import { sniffTfRecord } from './formats/tfrecord.js';
import { planSubset } from './loader.js';
import { openConfigured, SPLITS, transformOf } from './setup.js';
import { type Detected, detectSource } from './sources/index.js';
import { describeDecision } from './sources/label-base.js';
import { shardList } from './sources/shards.js';
import type { LabelDecision, SampleRef, SourceSplit } from './sources/source.js';
import { buildBatch, configureSharp } from './transforms.js';
import type { DataStats, Split } from './types.js';

export interface SplitReport {
  samples?: number;
  /** How the config selects them from the source (`from val, range [0,9000]`). */
  selection?: string;
  error?: string;
}

export interface SizeReport {
  examined: number;
  shorterSide: Record<string, number>;
  common: [string, number][];
  colour: Record<string, number>;
  formats: Record<string, number>;
}

/** The labels of the samples inspect read (class indices, after the label base). */
export interface LabelSetReport {
  samples: number;
  distinct: number;
  range: [number, number] | null;
  /** The smallest few distinct labels. */
  examples: number[];
}

export interface InspectReport {
  source: string;
  path: string | null;
  classes: string[];
  /** Where the class count comes from when the data doesn't name its classes (shards). */
  classesFrom?: string;
  labels: LabelSetReport;
  /** Sharded sources: how the stored labels are read. */
  labelBase?: LabelDecision;
  splits: Partial<Record<Split, SplitReport>>;
  sizes: SizeReport;
  decoded: number;
  /** Of the decoded ones, how many the decoder warned about (kept: see data.fail_on). */
  warned: number;
  corrupt: number;
  skipped: DataStats;
}

/** The first few KiB of a file, enough to tell a tar header, a TFRecord header or a gzip stream. */
function readHead(file: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4096);
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${errorMessage(err)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The shard format of a file, from its content (tar: ustar header; TFRecord: a length whose
 * CRC holds; either inside gzip), never from its name: a `.jpg` is refused, not read as
 * one damaged TFRecord record.
 */
function shardFormat(file: string): 'webdataset' | 'tfrecord' {
  const head = readHead(file);
  if (looksLikeTar(head)) return 'webdataset';
  if (sniffTfRecord(head)) return 'tfrecord';
  if (isGzip(head)) {
    const inner = inflateHead(head, 'gzip');
    if (inner && looksLikeTar(inner)) return 'webdataset';
    throw new DataError(`${file}: gzip-compressed, but neither a tar archive nor a TFRecord file inside`);
  }
  const what = head.length === 0 ? 'an empty file' : 'an unknown format';
  throw new DataError(
    `${file}: ${what}: expected a tar shard (WebDataset) or a TFRecord file, plain or gzip-compressed, a dataset folder or a config .yaml`,
  );
}

/**
 * A bare file or shard pattern, told by the content of the (first) file. Braces are
 * expanded first, so every shard must exist (a missing one is an error naming it) and the
 * names need not follow any convention. Folders and other missing paths: detectSource.
 */
function detectShards(p: string): Detected | null {
  if (p.includes('{')) return { source: shardFormat(shardList(p)[0]), path: p };
  if (existsSync(p) && statSync(p).isFile()) return { source: shardFormat(p), path: p };
  return null;
}

/** A data config for a bare path, by detecting its format. */
export function configForPath(p: string): DataConfig {
  const d = detectShards(p) ?? detectSource(p);
  return dataConfigSchema.parse({ source: d.source, path: d.path, val_path: d.val_path ?? null, workers: 0 });
}

const SHARDED = new Set(['webdataset', 'tfrecord']);

const BUCKETS: [string, number][] = [
  ['<64', 64],
  ['64-127', 128],
  ['128-255', 256],
  ['256-511', 512],
  ['>=512', Number.POSITIVE_INFINITY],
];

/** Up to `n` samples spread over the selected ones (indexed) or the stream's first `n`. */
async function sampleRefs(
  split: SourceSplit,
  subset: Uint32Array | null,
  size: number,
  n: number,
): Promise<SampleRef[]> {
  if (split.kind === 'indexed') {
    const k = Math.min(n, size);
    return Array.from({ length: k }, (_, i) => {
      const j = Math.floor((i * size) / k);
      return split.ref(subset ? subset[j] : j);
    });
  }
  const out: SampleRef[] = [];
  for await (const ref of split.read(split.shards)) {
    if (out.length >= Math.min(n, size)) break;
    out.push(ref);
  }
  return out;
}

const bump = (rec: Record<string, number>, key: string) => {
  rec[key] = (rec[key] ?? 0) + 1;
};

async function describe(ref: SampleRef, sizes: SizeReport, tally: Record<string, number>): Promise<void> {
  if (ref.skip) return;
  let w: number;
  let h: number;
  if (ref.raw) {
    ({ width: w, height: h } = ref.raw);
    bump(sizes.colour, ref.raw.channels === 1 ? 'grey 1ch' : `rgb ${ref.raw.channels}ch`);
    bump(sizes.formats, 'raw');
  } else {
    try {
      const input = ref.bytes ?? ref.file!;
      const m = await sharp(input).metadata();
      w = m.autoOrient?.width ?? m.width ?? 0;
      h = m.autoOrient?.height ?? m.height ?? 0;
      bump(sizes.colour, `${m.space ?? '?'} ${m.channels ?? '?'}ch`);
      bump(sizes.formats, m.format ?? '?');
    } catch {
      return; // counted by the decode check
    }
  }
  sizes.examined++;
  const short = Math.min(w, h);
  bump(sizes.shorterSide, BUCKETS.find(([, lim]) => short < lim)![0]);
  bump(tally, `${w}x${h}`);
}

export async function inspectData(
  cfg: DataConfig,
  opts: { sample: number; all?: boolean; logger?: DataLogger },
): Promise<InspectReport> {
  configureSharp();
  const skips = new SkipLog(opts.logger);
  const { source } = await openConfigured({ cfg, skips, logger: opts.logger });
  const sizes: SizeReport = { examined: 0, shorterSide: {}, common: [], colour: {}, formats: {} };
  const tally: Record<string, number> = {};
  const seen = new Set<number>();
  const report: InspectReport = {
    source: cfg.source,
    path: cfg.path,
    classes: source.classNames,
    classesFrom: SHARDED.has(cfg.source)
      ? cfg.num_classes === null
        ? "data.num_classes not set: ImageNet's 1000 assumed"
        : 'data.num_classes'
      : undefined,
    labels: { samples: 0, distinct: 0, range: null, examples: [] },
    splits: {},
    sizes,
    decoded: 0,
    warned: 0,
    corrupt: 0,
    skipped: skips.stats(),
  };
  try {
    for (const name of SPLITS) {
      const from = sourceSplitOf(name, cfg);
      let split: SourceSplit;
      let sel: ReturnType<typeof planSubset>;
      let opened = false;
      try {
        split = await source.split(from);
        opened = true;
        sel = planSubset(split, cfg[name], `data.${name}`);
      } catch (err) {
        // Shards that are named but missing or unreadable are an error, not an absent split
        // (which stays a report line: e.g. no val_path given).
        const pattern = from === 'train' ? cfg.path : cfg.val_path;
        if (!opened && SHARDED.has(cfg.source) && pattern) throw err;
        report.splits[name] = { error: errorMessage(err) };
        continue;
      }
      const { range, limit } = cfg[name];
      const note = [from !== name && `from ${from}`, range && `range [${range}]`, limit && `limit ${limit}`];
      report.splits[name] = { samples: sel.size, selection: note.filter(Boolean).join(', ') || undefined };
      const refs = await sampleRefs(split, sel.subset, sel.size, opts.all ? sel.size : opts.sample);
      for (const ref of refs) await describe(ref, sizes, tally);
      for (const ref of refs) if (!ref.skip) countLabel(report.labels, seen, ref.label);
      const spec = transformOf('val', cfg, source);
      for (let i = 0; i < refs.length; i += 64) {
        const samples = refs.slice(i, i + 64).map((r, k) => ({ ...r, index: i + k }));
        const out = await buildBatch({ spec, seed: 0, samples }, 4);
        report.decoded += out.n;
        report.warned += out.notes.length;
        report.corrupt += out.skips.filter(
          (s) => s.reason === 'corrupt_image' || s.reason === 'unreadable_file',
        ).length;
        for (const s of out.skips) skips.add(s);
        for (const n of out.notes) skips.note(n);
      }
    }
  } finally {
    await source.close();
  }
  report.labels.examples = [...seen].sort((a, b) => a - b).slice(0, 10);
  report.labelBase = source.labelBase?.() ?? undefined;
  sizes.common = Object.entries(tally)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  report.skipped = skips.stats();
  return report;
}

function countLabel(r: LabelSetReport, seen: Set<number>, label: number): void {
  r.samples++;
  seen.add(label);
  r.distinct = seen.size;
  r.range = r.range ? [Math.min(r.range[0], label), Math.max(r.range[1], label)] : [label, label];
}

/** `10 distinct in the 20 samples read: 0..9 (0, 1, 2, 3, 4, 5, ...)`. */
function labelLine(l: LabelSetReport): string {
  if (!l.range) return 'none read';
  const more = l.distinct > 6 ? ', ...' : '';
  return `${l.distinct} distinct in the ${l.samples} samples read: ${l.range[0]}..${l.range[1]} (${l.examples.slice(0, 6).join(', ')}${more})`;
}

const join = (rec: Record<string, number>) =>
  Object.entries(rec)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || '-';

export function formatInspect(r: InspectReport): string {
  const names = r.classes.length > 6 ? [...r.classes.slice(0, 3), '...', ...r.classes.slice(-2)] : r.classes;
  const lines = [
    `format        ${r.source}${r.path ? `  (${r.path})` : ''}`,
    // Shards name no classes: their count is the config's, and the labels line says what they hold.
    `classes       ${r.classes.length}${r.classesFrom ? ` (${r.classesFrom})` : `: ${names.join(', ')}`}`,
    `labels        ${labelLine(r.labels)}`,
  ];
  if (r.labelBase) lines.push(`label base    ${describeDecision(r.labelBase)}`);
  for (const [name, s] of Object.entries(r.splits)) {
    const what = s.error
      ? `unavailable: ${s.error}`
      : `${s.samples} samples${s.selection ? ` (${s.selection})` : ''}`;
    lines.push(`${name.padEnd(14)}${what}`);
  }
  const shorter = BUCKETS.map(([b]) => `${b}: ${r.sizes.shorterSide[b] ?? 0}`).join(' | ');
  lines.push(
    `image sizes   ${r.sizes.examined} images examined (header only)`,
    `  shorter side  ${shorter}`,
    `  most common   ${r.sizes.common.map(([k, v]) => `${k} (${v})`).join(', ') || '-'}`,
    `  colour        ${join(r.sizes.colour)}`,
    `  formats       ${join(r.sizes.formats)}`,
    `decode check  ${r.decoded} decoded${r.warned ? ` (${r.warned} with a decoder warning)` : ''}, ${r.corrupt} corrupt`,
    `skipped       ${r.skipped.skipped}${r.skipped.skipped ? ` (${join(r.skipped.byReason)})` : ''}`,
  );
  if (r.skipped.notes) lines.push(`not skipped   ${join(r.skipped.notes)}`);
  return lines.join('\n');
}
