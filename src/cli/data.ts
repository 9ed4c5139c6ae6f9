/**
 * `wtrain data inspect|bench|prepare|download`. User mistakes (bad config, missing
 * files, bad data) throw UserError/DataError, which the CLI's main prints as one line
 * (exit 2) without a stack; bad option values are commander usage errors.
 */
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { issuesToProblems } from '../config/issues.js';
import { loadConfig } from '../config/load.js';
import { isPlainObject } from '../config/merge.js';
import { readYamlSource } from '../config/yaml-source.js';
import { benchLoader, formatBench } from '../data/bench.js';
import { type DataConfig, dataConfigSchema, resolveDataPaths } from '../data/config.js';
import { downloadDataset } from '../data/download.js';
import type { DataLogger } from '../data/errors.js';
import { configForPath, formatInspect, inspectData } from '../data/inspect.js';
import { prepareCache } from '../data/prepare.js';
import type { Split } from '../data/types.js';

/** Warnings on stderr, one line each; info only with --verbose. */
function cliLogger(verbose = false): DataLogger {
  const line = (obj: object) => {
    const parts = Object.entries(obj)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return parts.length ? ` (${parts.join(' ')})` : '';
  };
  return {
    warn: (obj, msg) => console.error(`warning: ${msg}${line(obj)}`),
    info: (obj, msg) => {
      if (verbose) console.error(`${msg}${line(obj)}`);
    },
  };
}

export interface LoadedData {
  /** Paths made absolute (see loadConfig: where each was written). */
  cfg: DataConfig;
  seed: number;
  batchSize: number;
}

/**
 * The `data:` section of a YAML file: a full run config (validated as a whole, with
 * `extends:`/`smoke:`), or a file holding only `data:` or only the section's keys.
 */
export function loadDataConfig(file: string, opts: { smoke?: boolean } = {}): LoadedData {
  const doc = readYamlSource(file);
  const value = isPlainObject(doc.value) ? doc.value : {};
  const baseDir = path.dirname(path.resolve(file));
  const keys = Object.keys(value);
  // A run config: data: beside other sections, or a preset whose data: comes from `extends:`.
  if (keys.includes('extends') || (keys.includes('data') && keys.some((k) => k !== 'data'))) {
    const { config } = loadConfig(file, { smoke: opts.smoke });
    return {
      cfg: resolveDataPaths(config.data, baseDir),
      seed: config.train.seed,
      batchSize: config.train.batch_size,
    };
  }
  const section = keys.includes('data') ? value.data : value;
  const result = dataConfigSchema.safeParse(section);
  if (!result.success) {
    const wrapped = keys.includes('data');
    const issues = result.error.issues.map((i) => ({ ...i, path: wrapped ? ['data', ...i.path] : i.path }));
    const schema = wrapped ? z.strictObject({ data: dataConfigSchema }) : dataConfigSchema;
    throw new ConfigError(issuesToProblems(issues, value, doc.locs, schema as never));
  }
  return { cfg: resolveDataPaths(result.data, baseDir), seed: 0, batchSize: 128 };
}

const isConfigFile = (p: string) => /\.ya?ml$/i.test(p);

function positiveInt() {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
    return n;
  };
}

/** `1,2` -> [1, 2]: decode thread counts. */
function threadList(v: string): number[] {
  const n = v.split(',').map(Number);
  if (n.some((t) => !Number.isInteger(t) || t < 0))
    throw new InvalidArgumentError(`expected integers >= 0, e.g. 1,2`);
  return n;
}

function list<T extends string>(allowed?: readonly T[]) {
  return (v: string) => {
    const items = v.split(',').map((s) => s.trim());
    const bad = allowed && items.find((s) => !allowed.includes(s as T));
    if (bad) throw new InvalidArgumentError(`'${bad}' is not one of ${allowed.join(', ')}`);
    return items as T[];
  };
}

type InspectOpts = { sample: number; all?: boolean; smoke?: boolean; json?: boolean };
type BenchOpts = { threads: number[]; images: number; batchSize?: number; split: Split; smoke?: boolean };
type PrepareOpts = { out?: string; splits: Split[]; workers?: number; smoke?: boolean };

async function inspectCommand(target: string, o: InspectOpts): Promise<void> {
  const cfg = isConfigFile(target) ? loadDataConfig(target, o).cfg : configForPath(path.resolve(target));
  const report = await inspectData(cfg, { sample: o.sample, all: o.all, logger: cliLogger() });
  console.log(o.json ? JSON.stringify(report, null, 2) : formatInspect(report));
}

async function benchCommand(file: string, o: BenchOpts): Promise<void> {
  const { cfg, batchSize } = loadDataConfig(file, o);
  const rows = await benchLoader(cfg, {
    threads: o.threads,
    images: o.images,
    batchSize: o.batchSize ?? batchSize,
    split: o.split,
    label: `${cfg.source} ${o.split}`,
    logger: cliLogger(),
  });
  console.log(formatBench(rows));
}

async function prepareCommand(file: string, o: PrepareOpts): Promise<void> {
  const { cfg } = loadDataConfig(file, o);
  let last = 0;
  const { dir, meta } = await prepareCache(cfg, {
    out: o.out,
    splits: o.splits,
    workers: o.workers,
    logger: cliLogger(),
    onProgress: (split, done, total) => {
      if (process.stderr.isTTY && Date.now() - last > 500) {
        last = Date.now();
        process.stderr.write(`\r${split}: ${done}/${total}`);
      }
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const counts = Object.entries(meta.splits).map(([s, c]) => `${s} ${c.count} (${c.skipped} skipped)`);
  const shape = `${meta.storedSize}x${meta.storedSize}x${meta.channels}`;
  console.log(`wrote ${dir}: ${counts.join(', ')}, ${shape} per image`);
  console.log(
    `use it with data.cache: ${dir} (same data section), or data.source: cache + data.path: ${dir}`,
  );
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('inspect, benchmark, cache and download datasets');
  const smoke = "apply the config's smoke overrides";

  data
    .command('inspect')
    .description('format, classes, samples per split, image sizes and corrupt files of a dataset')
    .argument('<target>', 'dataset path or shard pattern, or a config file (.yaml) with a data: section')
    .option('--sample <n>', 'images per split whose headers are read and decoded', positiveInt(), 500)
    .option('--all', 'read and decode every image')
    .option('--smoke', smoke)
    .option('--json', 'print the report as JSON')
    .action(inspectCommand);

  data
    .command('bench')
    .description(
      "images/s of the config's data pipeline (read, decode, augment, batch) per decode-thread count",
    )
    .argument('<config>', 'config file with a data: section')
    .option('--threads <list>', 'decode thread counts (0 = main thread)', threadList, [1, 2])
    .option('--images <n>', 'images timed per thread count', positiveInt(), 2000)
    .option('--batch-size <n>', "batch size (default: the config's train.batch_size)", positiveInt())
    .option('--split <split>', 'train or val', (v: string) => list<Split>(['train', 'val'])(v)[0], 'train')
    .option('--smoke', smoke)
    .action(benchCommand);

  data
    .command('prepare')
    .description('decode a dataset once into a packed uint8 cache that training reads with no decode cost')
    .argument('<config>', 'config file with a data: section (data.cache names the output)')
    .option('--out <dir>', 'output folder (default: data.cache)')
    .option('--splits <list>', 'splits to write', list<Split>(['train', 'val']), ['train', 'val'])
    .option('--workers <n>', 'decode threads (default: data.workers)', positiveInt())
    .option('--smoke', smoke)
    .action(prepareCommand);

  data
    .command('download')
    .description(
      'download cifar10, mnist or fashion_mnist with checksums (or install a local copy with --from)',
    )
    .argument('<dataset>', 'cifar10, mnist or fashion_mnist')
    .option('--dir <dir>', 'folder to install into (as <dir>/<dataset>)', 'data')
    .option('--from <path>', 'install from a local archive or folder instead of downloading')
    .action(async (name: string, o: { dir: string; from?: string }) => {
      const where = await downloadDataset(name, o);
      console.log(`installed ${name} in ${where}\nuse: data: { source: ${name}, path: ${where} }`);
    });
}
