/**
 * Whether a folder of CIFAR-10 binary batches holds the official files, for
 * `wtrain data download cifar10 --from <folder>`. The archive has a published MD5; its
 * six .bin files have none, so a folder is checked against what is known of them:
 * - each split's records (label byte + 3072 pixel bytes), as a set: a SHA-256 over the
 *   sorted SHA-256s of its records, the same whatever their order or batch file. Computed
 *   from a pixel-exact copy whose pixel sums give the published means (train 0.4733630004850899,
 *   test 0.4765849205984478 of all pixel values / 255);
 * - their order, as far as it is published: data_batch_1.bin's class counts and first 20
 *   labels, and test_batch.bin's first 20 labels (the first labels every CIFAR-10 loader
 *   prints: torchvision's targets[:20], the Udacity notebook's display_stats).
 * A copy with other content, or the official records in another order, is reported as such.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError, errorMessage } from './errors.js';

const RECORD = 3073;
const RECORDS = 10_000;
export const CIFAR_TRAIN = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR_TEST = 'test_batch.bin';

/** Order-free digests of the official splits' records. */
const SPLIT_DIGESTS = {
  train: '55a61f79a40ece2ceda9fb5f9f7078f6ea2fc4952489cef56682bcf92cfcc260',
  test: '325704b01eb92e1e2a6215ae6a916bb7db7de054af0c496be1c7be2e0fcfbf5f',
};

/** Published facts about the official files' order. */
const ORDER: Record<string, { first: number[]; counts?: number[] }> = {
  'data_batch_1.bin': {
    first: [6, 9, 9, 4, 1, 1, 2, 7, 8, 3, 4, 7, 7, 2, 9, 9, 9, 3, 2, 6],
    counts: [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981],
  },
  'test_batch.bin': { first: [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6] },
};

/** The six batch files of `dir`, each checked to be 10,000 records with labels 0..9. */
function readBatches(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of [...CIFAR_TRAIN, CIFAR_TEST]) {
    const file = path.join(dir, name);
    if (!existsSync(file) || statSync(file).size !== RECORD * RECORDS) {
      throw new DataError(`${file}: expected the CIFAR-10 binary batch of ${RECORD * RECORDS} bytes`);
    }
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      throw new DataError(`cannot read ${file}: ${errorMessage(err)}`);
    }
    for (let r = 0; r < RECORDS; r++) {
      if (buf[r * RECORD] > 9) {
        throw new DataError(
          `${file} [record ${r}]: label byte ${buf[r * RECORD]}, expected 0..9: not a CIFAR-10 batch`,
        );
      }
    }
    out.set(name, buf);
  }
  return out;
}

/** SHA-256 over the sorted SHA-256s of every record of `bufs`: the same for any order of the records. */
export function recordSetDigest(bufs: Buffer[]): string {
  const hashes: Buffer[] = [];
  for (const buf of bufs) {
    for (let o = 0; o + RECORD <= buf.length; o += RECORD) {
      hashes.push(
        createHash('sha256')
          .update(buf.subarray(o, o + RECORD))
          .digest(),
      );
    }
  }
  hashes.sort(Buffer.compare);
  return createHash('sha256').update(Buffer.concat(hashes)).digest('hex');
}

const labelsOf = (buf: Buffer, n: number) => Array.from({ length: n }, (_, r) => buf[r * RECORD]);

function countsOf(buf: Buffer): number[] {
  const counts = new Array(10).fill(0);
  for (let r = 0; r < RECORDS; r++) counts[buf[r * RECORD]]++;
  return counts;
}

/** How a file's order differs from the official one's, or null when it agrees with what is published. */
function orderProblem(name: string, buf: Buffer): string | null {
  const facts = ORDER[name];
  if (!facts) return null;
  const first = labelsOf(buf, facts.first.length);
  if (first.join() !== facts.first.join()) {
    return `${name} begins with labels ${first.slice(0, 8).join(', ')}, ... where the official file begins ${facts.first.slice(0, 8).join(', ')}, ...`;
  }
  const counts = countsOf(buf);
  if (facts.counts && counts.join() !== facts.counts.join()) {
    return `${name} holds ${counts.join('/')} images per class, the official file ${facts.counts.join('/')}`;
  }
  return null;
}

/**
 * Check that `dir` holds the official CIFAR-10 binary batches; a DataError says what differs.
 * Returns the names of the batch files, to install.
 */
export function checkCifarFolder(dir: string): string[] {
  const batches = readBatches(dir);
  const split = (names: string[]) => recordSetDigest(names.map((n) => batches.get(n)!));
  const other: string[] = [];
  if (split(CIFAR_TRAIN) !== SPLIT_DIGESTS.train) other.push(`the train batches (${CIFAR_TRAIN.join(', ')})`);
  if (split([CIFAR_TEST]) !== SPLIT_DIGESTS.test) other.push(CIFAR_TEST);
  if (other.length) {
    throw new DataError(
      `--from ${dir}: not the official CIFAR-10: the images or labels of ${other.join(' and ')} differ from the official files' (a modified or different data set)`,
    );
  }
  const problems = [...batches].map(([name, buf]) => orderProblem(name, buf)).filter((p) => p !== null);
  if (problems.length) {
    throw new DataError(
      `--from ${dir}: a re-ordered copy, not the official files: it holds the official CIFAR-10 images and labels, but ${problems.join('; ')}; install the official archive (cifar-10-binary.tar.gz, checked by its MD5), or train on this copy as it is with data.path: ${dir}`,
    );
  }
  return [...batches.keys()];
}
