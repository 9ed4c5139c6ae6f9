/**
 * ImageNet's folder layouts: `train/<wnid>/*.JPEG`, and `val/` either as class folders or
 * flat with a label file (Kaggle `LOC_val_solution.csv`, or the devkit's ground truth
 * mapped through its `meta.mat`). Class index = the train folders' names sorted.
 */
import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError, errorMessage } from '../errors.js';
import {
  readDevkitGroundTruth,
  readDevkitMeta,
  readLocValSolution,
  type ValLabels,
} from '../formats/imagenet-labels.js';
import { type DataSource, type IndexedSplit, photoSource, type SourceContext } from './source.js';

/** Extensions sharp decodes (matched case-insensitively: ImageNet writes `.JPEG`). */
export const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|gif|avif)$/i;

/** Files of a split, compactly: folder index + file name per sample. */
interface Listing {
  dirs: string[];
  dirOf: number[];
  names: string[];
  labels: number[];
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (err) {
    throw new DataError(`cannot list ${dir}: ${errorMessage(err)}`);
  }
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Sorted class folder names of a train folder. */
function classFolders(dir: string): string[] {
  const names = entries(dir)
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name);
  if (names.length === 0)
    throw new DataError(`${dir}: no class folders found (expected <class>/<image> files)`);
  return names;
}

function newListing(): Listing {
  return { dirs: [], dirOf: [], names: [], labels: [] };
}

/** Add the image files of `dir` with `label`; anything else there is skipped and logged. Returns how many. */
function addFiles(
  list: Listing,
  dir: string,
  label: (name: string) => number | undefined,
  ctx: SourceContext,
): number {
  const d = list.dirs.push(dir) - 1;
  let added = 0;
  for (const e of entries(dir)) {
    if (e.name.startsWith('.')) continue;
    const file = path.join(dir, e.name);
    if (!e.isFile() || !IMAGE_EXT.test(e.name)) {
      ctx.skips.add({ reason: 'not_an_image', where: file, detail: 'not an image file (by extension)' });
      continue;
    }
    const l = label(e.name);
    if (l === undefined) continue;
    list.dirOf.push(d);
    list.names.push(e.name);
    list.labels.push(l);
    added++;
  }
  return added;
}

/** A folder of class folders. Folders that aren't classes of the train split are skipped, with their files. */
function scanClassFolders(dir: string, classIndex: Map<string, number>, ctx: SourceContext): Listing {
  const list = newListing();
  for (const e of entries(dir)) {
    if (e.name.startsWith('.')) continue;
    const sub = path.join(dir, e.name);
    if (!e.isDirectory()) {
      ctx.skips.add({ reason: 'not_an_image', where: sub, detail: 'file outside any class folder' });
      continue;
    }
    const label = classIndex.get(e.name);
    if (label === undefined) {
      const n = entries(sub).filter((f) => f.isFile() && IMAGE_EXT.test(f.name)).length;
      ctx.skips.add(
        {
          reason: 'unknown_class',
          where: sub,
          detail: `folder is not a class of the train split (${n} files)`,
        },
        n,
      );
      continue;
    }
    if (addFiles(list, sub, () => label, ctx) === 0) {
      ctx.skips.add({ reason: 'empty_class', where: sub, detail: `class ${label} has no images` });
    }
  }
  return list;
}

const fileStem = (name: string) => name.replace(/\.[^.]*$/, '');

/** Label files for a flat val folder: config keys first, else the usual names next to it. */
function valLabels(valDir: string, ctx: SourceContext): ValLabels {
  const { cfg } = ctx;
  const near = [
    valDir,
    path.dirname(valDir),
    path.join(path.dirname(valDir), 'ILSVRC2012_devkit_t12', 'data'),
  ];
  const find = (name: string) => near.map((d) => path.join(d, name)).find((p) => existsSync(p));
  const file =
    cfg.val_labels ?? find('LOC_val_solution.csv') ?? find('ILSVRC2012_validation_ground_truth.txt');
  if (!file) {
    throw new DataError(
      `${valDir}: flat val folder without labels: set data.val_labels to LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt`,
    );
  }
  if (file.endsWith('.csv')) return readLocValSolution(file);
  const meta = cfg.devkit_meta ?? path.join(path.dirname(file), 'meta.mat');
  if (!existsSync(meta)) {
    throw new DataError(
      `${file} holds devkit ids (not class indices); its meta.mat was not found at ${meta}: set data.devkit_meta`,
    );
  }
  return readDevkitGroundTruth(file, readDevkitMeta(meta), meta);
}

/** A flat folder of images labelled by file stem; unlabelled or unknown-class files are skipped. */
function scanFlat(dir: string, classIndex: Map<string, number>, ctx: SourceContext): Listing {
  const labels = valLabels(dir, ctx);
  const list = newListing();
  addFiles(
    list,
    dir,
    (name) => {
      const file = path.join(dir, name);
      const wnid = labels.get(fileStem(name));
      if (wnid === undefined) {
        ctx.skips.add({ reason: 'missing_label', where: file, detail: 'not in the val label file' });
        return undefined;
      }
      const label = classIndex.get(wnid);
      if (label === undefined)
        ctx.skips.add({ reason: 'unknown_class', where: file, detail: `${wnid} is not a train class` });
      return label;
    },
    ctx,
  );
  return list;
}

function toSplit(list: Listing): IndexedSplit {
  return {
    kind: 'indexed',
    size: list.names.length,
    ref: (i) => {
      const file = path.join(list.dirs[list.dirOf[i]], list.names[i]);
      return { label: list.labels[i], where: file, file };
    },
  };
}

export async function openImageFolder(ctx: SourceContext): Promise<DataSource> {
  const root = ctx.cfg.path;
  if (!root) throw new DataError('data.path: required for source imagefolder (root with train/ and val/)');
  if (!isDir(root)) throw new DataError(`data.path: ${root} is not a folder`);
  const nested = isDir(path.join(root, 'train'));
  const trainDir = nested ? path.join(root, 'train') : root;
  const valDir = ctx.cfg.val_path ?? (nested ? path.join(root, 'val') : null);
  const classes = classFolders(trainDir);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const load = async (name: 'train' | 'val'): Promise<IndexedSplit> => {
    if (name === 'train') return toSplit(scanClassFolders(trainDir, classIndex, ctx));
    if (!valDir || !isDir(valDir)) {
      throw new DataError(`imagefolder: no val folder (${valDir ?? 'none given'}): set data.val_path`);
    }
    const flat = entries(valDir).some((e) => e.isFile() && IMAGE_EXT.test(e.name));
    return toSplit(flat ? scanFlat(valDir, classIndex, ctx) : scanClassFolders(valDir, classIndex, ctx));
  };
  return photoSource('imagefolder', classes, load);
}
