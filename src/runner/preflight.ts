/**
 * Before a run directory is created or a backend chosen: do the data paths the config
 * names exist? A missing data set is the commonest first mistake (a preset run without
 * ImageNet), and it deserves one line saying what to do, not a failed run left behind.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Problem, type SourceLoc } from '../config/errors.js';
import type { Config } from '../config/schema.js';

/** What each source expects at `data.path`. */
const LAYOUT: Record<string, string> = {
  imagefolder:
    'a folder with train/ and val/ inside, each holding one folder per class (train/n01440764/*.JPEG), or a flat val/ with its labels file',
  mnist: 'the MNIST idx files (train-images-idx3-ubyte[.gz] and the others)',
  fashion_mnist: 'the Fashion-MNIST idx files (train-images-idx3-ubyte[.gz] and the others)',
  cifar10: "CIFAR-10's binary batches (data_batch_1.bin ... test_batch.bin; wtrain data download cifar10)",
  webdataset: '.tar shards (a pattern such as shards/train-{000000..000127}.tar)',
  tfrecord: 'TFRecord shards (a pattern such as train-{00000..01023}-of-01024)',
  cache: 'a folder written by wtrain data prepare',
};

const KEYS = ['path', 'val_path', 'val_labels', 'devkit_meta'] as const;

/** The part of a shard pattern that must exist: the folder before the first brace. */
function mustExist(p: string): string {
  const brace = p.indexOf('{');
  return brace < 0 ? p : path.dirname(p.slice(0, brace));
}

/** The configured data paths that do not exist. */
function missingPaths(config: Config): (typeof KEYS)[number][] {
  return KEYS.filter((k) => {
    const p = config.data[k];
    return p !== null && !existsSync(mustExist(p));
  });
}

/**
 * A ConfigError (one line per missing path, located where the path was written) when a
 * data path does not exist. `smokeWorks`: the config's --smoke variant has its data, so
 * the message can offer it.
 */
export function checkDataPaths(
  config: Config,
  where: (key: string) => SourceLoc | undefined,
  smokeWorks: () => boolean = () => false,
): void {
  const missing = missingPaths(config);
  if (missing.length === 0) return;
  const smoke = smokeWorks() ? ', or try the config on small data with --smoke' : '';
  const problems: Problem[] = missing.map((key) => {
    const expected = key === 'path' ? ` (expected: ${LAYOUT[config.data.source] ?? 'the data'})` : '';
    return {
      loc: where(`data.${key}`),
      key: `data.${key}`,
      message: `${config.data[key]} does not exist${expected}; set data.${key} in the config or with --set data.${key}=...${smoke}`,
    };
  });
  throw new ConfigError(problems);
}

/** Whether every data path of `config` exists (for offering --smoke). */
export function dataPathsExist(config: Config): boolean {
  return missingPaths(config).length === 0;
}
