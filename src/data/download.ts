/**
 * `wtrain data download cifar10|mnist|fashion_mnist`: fetch the official files, verify
 * their checksums, install them under `<dir>/<name>/` (CIFAR-10: its archive's
 * `cifar-10-batches-bin/` inside that). Offline, `--from` installs from a local copy: the
 * archive (its published MD5) or a folder of the files (MNIST: the published MD5s of their
 * content; CIFAR-10: its records against the official ones, see ./cifar-check.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { checkCifarFolder } from './cifar-check.js';
import { DataError, errorMessage } from './errors.js';
import { cifarDir } from './sources/cifar10.js';

interface RemoteFile {
  name: string;
  urls: string[];
  /** MD5 of the file as published. */
  md5: string;
  /** idx files: MD5 of the decompressed content (accepts re-gzipped copies). */
  rawMd5?: string;
}

const MNIST_MIRRORS = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'];
const FASHION_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const idx = (mirrors: string[], name: string, md5: string, rawMd5: string): RemoteFile => ({
  name,
  urls: mirrors.map((m) => m + name),
  md5,
  rawMd5,
});

/** Published checksums (MNIST: torchvision's list; Fashion-MNIST: its README; CIFAR-10: its web page). */
export const DOWNLOADS = {
  mnist: [
    idx(
      MNIST_MIRRORS,
      'train-images-idx3-ubyte.gz',
      'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      '6bbc9ace898e44ae57da46a324031adb',
    ),
    idx(
      MNIST_MIRRORS,
      'train-labels-idx1-ubyte.gz',
      'd53e105ee54ea40749a09fcbcd1e9432',
      'a25bea736e30d166cdddb491f175f624',
    ),
    idx(
      MNIST_MIRRORS,
      't10k-images-idx3-ubyte.gz',
      '9fb629c4189551a2d022fa330f9573f3',
      '2646ac647ad5339dbf082846283269ea',
    ),
    idx(
      MNIST_MIRRORS,
      't10k-labels-idx1-ubyte.gz',
      'ec29112dd5afa0611ce80d1b7f02629c',
      '27ae3e4e09519cfbb04c329615203637',
    ),
  ],
  fashion_mnist: [
    idx(
      [FASHION_MIRROR],
      'train-images-idx3-ubyte.gz',
      '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    ),
    idx(
      [FASHION_MIRROR],
      'train-labels-idx1-ubyte.gz',
      '25c81989df183df01b3e8a0aad5dffbe',
      '9018921c3c673c538a1fc5bad174d6f9',
    ),
    idx(
      [FASHION_MIRROR],
      't10k-images-idx3-ubyte.gz',
      'bef4ecab320f06d8554ea6380940ec79',
      '8181f5470baa50b63fa0f6fddb340f0a',
    ),
    idx(
      [FASHION_MIRROR],
      't10k-labels-idx1-ubyte.gz',
      'bb300cfdad3c16e7a12a480ee83cd310',
      '15d484375f8d13e6eb1aabb0c3f46965',
    ),
  ],
  cifar10: [
    {
      name: 'cifar-10-binary.tar.gz',
      urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
      md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    },
  ],
} satisfies Record<string, RemoteFile[]>;

export type Downloadable = keyof typeof DOWNLOADS;

/**
 * The folder a dataset is installed in under `dir`, i.e. what `data.path` names: the
 * CIFAR-10 presets read `data/cifar10`, which holds the archive's `cifar-10-batches-bin/`.
 */
export function installFolder(name: Downloadable, dir: string): string {
  const target = path.resolve(dir, name);
  return name === 'cifar10' ? path.join(target, 'cifar-10-batches-bin') : target;
}

const md5 = (buf: Uint8Array) => createHash('md5').update(buf).digest('hex');

async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Whether an idx file (gzipped or not) holds the published content. */
function idxMatches(buf: Buffer, f: RemoteFile, file: string): boolean {
  if (md5(buf) === f.md5) return true;
  let raw = buf;
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      raw = gunzipSync(buf);
    } catch (err) {
      throw new DataError(`${file}: not a complete gzip file (${errorMessage(err)}): copy it again`);
    }
  }
  return md5(raw) === f.rawMd5;
}

async function fetchTo(f: RemoteFile, dest: string): Promise<void> {
  const problems: string[] = [];
  for (const url of f.urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(`${dest}.part`));
      await rename(`${dest}.part`, dest);
      return;
    } catch (err) {
      await rm(`${dest}.part`, { force: true });
      const cause = (err as { cause?: unknown }).cause;
      problems.push(`${url}: ${errorMessage(err)}${cause ? ` (${errorMessage(cause)})` : ''}`);
    }
  }
  throw new DataError(
    `could not download ${f.name}:\n  ${problems.join('\n  ')}\n` +
      'This machine may be offline. Download it elsewhere, then install the copy with --from <file-or-folder>.',
  );
}

/** Extract the regular files of a .tar.gz under `dir` (refusing paths that leave it). */
async function extractTarGz(archive: string, dir: string): Promise<void> {
  const extract = tar.extract();
  const done = pipeline(createReadStream(archive), createGunzip(), extract);
  for await (const entry of extract) {
    const target = path.resolve(dir, entry.header.name);
    if (!target.startsWith(path.resolve(dir) + path.sep))
      throw new DataError(`${archive}: unsafe path ${entry.header.name}`);
    if (entry.header.type === 'file') {
      await mkdir(path.dirname(target), { recursive: true });
      await pipeline(entry as unknown as NodeJS.ReadableStream, createWriteStream(target));
    } else entry.resume();
  }
  await done;
}

async function installCifar(from: string, target: string): Promise<void> {
  const f = DOWNLOADS.cifar10[0];
  if (statSync(from).isFile()) {
    const sum = await md5File(from);
    if (sum !== f.md5) throw new DataError(`${from}: MD5 ${sum}, expected ${f.md5} (the official ${f.name})`);
    await extractTarGz(from, target);
    return;
  }
  const src = cifarDir(from);
  const bins = checkCifarFolder(src);
  const dest = path.join(target, 'cifar-10-batches-bin');
  await mkdir(dest, { recursive: true });
  for (const name of [...bins, 'batches.meta.txt']) {
    if (existsSync(path.join(src, name))) await copyFile(path.join(src, name), path.join(dest, name));
  }
}

async function installIdx(files: RemoteFile[], from: string, target: string): Promise<void> {
  if (!statSync(from).isDirectory())
    throw new DataError(`--from ${from}: expected the folder holding the idx files`);
  const names = readdirSync(from);
  await mkdir(target, { recursive: true });
  for (const f of files) {
    const stem = f.name.replace(/\.gz$/, '');
    const found = names.find((n) => n === f.name) ?? names.find((n) => n === stem);
    if (!found) throw new DataError(`${from}: ${f.name} (or ${stem}) not found`);
    const buf = await readFile(path.join(from, found));
    if (!idxMatches(buf, f, path.join(from, found)))
      throw new DataError(`${path.join(from, found)}: content does not match the published ${f.name}`);
    await writeFile(path.join(target, found), buf);
  }
}

/** Download (or install `from`) a dataset into `<dir>/<name>`; returns the folder to put in `data.path`. */
export async function downloadDataset(name: string, opts: { dir: string; from?: string }): Promise<string> {
  if (!(name in DOWNLOADS)) {
    throw new DataError(`unknown dataset '${name}': expected one of ${Object.keys(DOWNLOADS).join(', ')}`);
  }
  const files: RemoteFile[] = DOWNLOADS[name as Downloadable];
  const target = path.resolve(opts.dir, name);
  if (opts.from) {
    const from = path.resolve(opts.from);
    if (!existsSync(from)) throw new DataError(`--from ${from}: not found`);
    await (name === 'cifar10' ? installCifar(from, target) : installIdx(files, from, target));
  } else {
    await mkdir(target, { recursive: true });
    for (const f of files) {
      const dest = path.join(target, f.name);
      if (!existsSync(dest)) await fetchTo(f, dest);
      const sum = await md5File(dest);
      if (sum !== f.md5) {
        await rm(dest);
        throw new DataError(`${f.urls[0]}: downloaded file has MD5 ${sum}, expected ${f.md5}; removed it`);
      }
    }
    if (name === 'cifar10') {
      await extractTarGz(path.join(target, files[0].name), target);
      await rm(path.join(target, files[0].name));
    }
  }
  return installFolder(name as Downloadable, opts.dir);
}
