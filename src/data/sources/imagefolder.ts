/**
 * ImageNet's folder layouts: `train/<wnid>/*.JPEG`, and `val/` either as class folders or
 * flat with a label file (Kaggle `LOC_val_solution.csv`, or the devkit's ground truth
 * mapped through its `meta.mat`). Class index = the train folders' names sorted.
 *
 * Listing follows torchvision's ImageFolder (`os.walk(followlinks=True)`), so folders
 * made with `ln -s` or `cp -rs` and class folders with subfolders read the same there and
 * here: symbolic links are followed, and a class folder's images at any depth belong to it.
 */
import { type Dirent, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError, errorMessage, type Skip } from '../errors.js';
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

/** A folder entry with symbolic links resolved; `broken` = a link whose target can't be stat'ed. */
interface Entry {
  name: string;
  path: string;
  kind: 'dir' | 'file' | 'other' | 'broken';
  error?: string;
}

/** Code-unit order, like Python's `sorted` on names (not locale order, which varies by machine). */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The visible entries of `dir`, sorted by name; hidden ones (`.DS_Store`, `.git`) are left out. */
function listDir(dir: string): Entry[] {
  let dirents: Dirent[];
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new DataError(`cannot list ${dir}: ${errorMessage(err)}`);
  }
  return dirents
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => byName(a.name, b.name))
    .map((e): Entry => {
      const p = path.join(dir, e.name);
      if (!e.isSymbolicLink()) return { name: e.name, path: p, kind: kindOf(e) };
      try {
        return { name: e.name, path: p, kind: kindOf(statSync(p)) };
      } catch (err) {
        return { name: e.name, path: p, kind: 'broken', error: errorMessage(err) };
      }
    });
}

function kindOf(s: { isDirectory(): boolean; isFile(): boolean }): Entry['kind'] {
  return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
}

const isImage = (e: Entry) => e.kind === 'file' && IMAGE_EXT.test(e.name);

/** Why an entry that can't be a sample is skipped (a broken link is an unreadable file, not a non-image). */
function badEntry(e: Entry, outsideClass: boolean): Skip {
  if (e.kind === 'broken')
    return { reason: 'unreadable_file', where: e.path, detail: `broken symbolic link: ${e.error}` };
  if (outsideClass && isImage(e))
    return { reason: 'missing_label', where: e.path, detail: 'image outside any class folder' };
  return {
    reason: 'not_an_image',
    where: e.path,
    detail: outsideClass ? 'file outside any class folder' : 'not an image file (by extension)',
  };
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Sorted class folder names of a train folder (links to folders included). */
function classFolders(dir: string): string[] {
  const names = listDir(dir)
    .filter((e) => e.kind === 'dir')
    .map((e) => e.name);
  if (names.length === 0)
    throw new DataError(`${dir}: no class folders found (expected <class>/<image> files)`);
  return names;
}

function newListing(): Listing {
  return { dirs: [], dirOf: [], names: [], labels: [] };
}

/** The image files of one folder. */
interface Folder {
  dir: string;
  names: string[];
}

/**
 * The images under a class folder, subfolders included, folders in sorted path order (as
 * torchvision sorts `os.walk`). A folder whose real path was already walked (a link loop,
 * or two links to one folder) is walked once. `report`: log the entries that aren't images.
 */
function walkImages(top: string, ctx: SourceContext, report: boolean): Folder[] {
  const out: Folder[] = [];
  const seen = new Set<string>();
  const visit = (dir: string) => {
    let real = dir;
    try {
      real = realpathSync(dir);
    } catch {} // listing it below reports the problem
    if (seen.has(real)) {
      if (report)
        ctx.logger?.warn(
          { file: dir, realPath: real },
          'data: folder already listed (symbolic link loop?), skipped',
        );
      return;
    }
    seen.add(real);
    const names: string[] = [];
    for (const e of listDir(dir)) {
      if (e.kind === 'dir') visit(e.path);
      else if (isImage(e)) names.push(e.name);
      else if (report) ctx.skips.add(badEntry(e, false));
    }
    out.push({ dir, names });
  };
  visit(top);
  return out.sort((a, b) => byName(a.dir, b.dir));
}

/** Add `names` of `dir`, labelled by `label` (undefined = skip, the callback logs why). Returns how many. */
function addFiles(
  list: Listing,
  { dir, names }: Folder,
  label: (name: string) => number | undefined,
): number {
  const d = list.dirs.push(dir) - 1;
  let added = 0;
  for (const name of names) {
    const l = label(name);
    if (l === undefined) continue;
    list.dirOf.push(d);
    list.names.push(name);
    list.labels.push(l);
    added++;
  }
  return added;
}

/**
 * A folder that is not a class of the train split: skipped with all the images under it.
 * One without images (say a devkit unpacked into a flat val/) is no skipped sample: only logged.
 */
function skipFolder(e: Entry, ctx: SourceContext, why: string): void {
  const n = walkImages(e.path, ctx, false).reduce((s, f) => s + f.names.length, 0);
  if (n === 0) ctx.logger?.warn({ file: e.path }, `data: ignored folder without images: ${why}`);
  else ctx.skips.add({ reason: 'unknown_class', where: e.path, detail: `${why} (${n} files)` }, n);
}

/** A folder of class folders. Folders that aren't classes of the train split are skipped, with their files. */
function scanClassFolders(top: Entry[], classIndex: Map<string, number>, ctx: SourceContext): Listing {
  const list = newListing();
  for (const e of top) {
    if (e.kind !== 'dir') {
      // e.g. one stray image beside val/'s class folders: it has no class, the rest are kept.
      ctx.skips.add(badEntry(e, true));
      continue;
    }
    const label = classIndex.get(e.name);
    if (label === undefined) {
      skipFolder(e, ctx, 'folder is not a class of the train split');
      continue;
    }
    let added = 0;
    for (const folder of walkImages(e.path, ctx, true)) added += addFiles(list, folder, () => label);
    // No sample is dropped: the class keeps its index; counted apart from skipped samples.
    if (added === 0)
      ctx.skips.note({ reason: 'empty_class', where: e.path, detail: `class ${label} has no images` });
  }
  return list;
}

const fileStem = (name: string) => name.replace(/\.[^.]*$/, '');

/** Label files for a flat val folder: config keys first, else the usual names next to it. */
function valLabels(valDir: string, subfolders: string[], ctx: SourceContext): ValLabels {
  const { cfg } = ctx;
  const near = devkitPlaces(valDir);
  const find = (name: string) => near.map((d) => path.join(d, name)).find((p) => existsSync(p));
  const file =
    cfg.val_labels ?? find('LOC_val_solution.csv') ?? find('ILSVRC2012_validation_ground_truth.txt');
  if (!file) {
    const hint =
      subfolders.length > 0
        ? ` (its subfolders ${subfolders.slice(0, 3).join(', ')}${subfolders.length > 3 ? ', ...' : ''} are not train classes)`
        : '';
    throw new DataError(
      `${valDir}: flat val folder without labels${hint}: set data.val_labels to LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt`,
    );
  }
  if (file.endsWith('.csv')) return readLocValSolution(file);
  // Unset: next to the ground truth (the devkit's data/), else where the label files are looked for.
  const places = cfg.devkit_meta
    ? [cfg.devkit_meta]
    : [...new Set([path.dirname(file), ...near])].map((d) => path.join(d, 'meta.mat'));
  const meta = places.find((p) => existsSync(p));
  if (!meta) {
    throw new DataError(
      `${file} holds devkit ids (not class indices); its meta.mat was not found at ${places.join(', ')}: set data.devkit_meta`,
    );
  }
  return readDevkitGroundTruth(file, readDevkitMeta(meta), meta);
}

/** Where a flat val folder's label files and the devkit are looked for: val/, beside it, the devkit's data/. */
function devkitPlaces(valDir: string): string[] {
  const parent = path.dirname(valDir);
  return [valDir, parent, path.join(parent, 'ILSVRC2012_devkit_t12', 'data')];
}

/** A flat folder of images labelled by file stem; unlabelled or unknown-class files are skipped. */
function scanFlat(dir: string, top: Entry[], classIndex: Map<string, number>, ctx: SourceContext): Listing {
  const subfolders = top.filter((e) => e.kind === 'dir');
  const labels = valLabels(
    dir,
    subfolders.map((e) => e.name),
    ctx,
  );
  for (const e of top) {
    if (e.kind === 'dir') skipFolder(e, ctx, 'folder in a flat val folder, not a class of the train split');
    else if (!isImage(e)) ctx.skips.add(badEntry(e, false));
  }
  const list = newListing();
  const names = top.filter(isImage).map((e) => e.name);
  addFiles(list, { dir, names }, (name) => {
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
  });
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
    if (name === 'train') return toSplit(scanClassFolders(listDir(trainDir), classIndex, ctx));
    if (!valDir || !isDir(valDir)) {
      throw new DataError(`imagefolder: no val folder (${valDir ?? 'none given'}): set data.val_path`);
    }
    // Flat (ImageNet's val/ILSVRC2012_val_*.JPEG) only when val/ holds images and no
    // folder named after a train class: one stray image beside the class folders, or a
    // devkit folder unpacked into a flat val/, must not flip the mode.
    const top = listDir(valDir);
    const classFolder = top.some((e) => e.kind === 'dir' && classIndex.has(e.name));
    const flat = !classFolder && top.some(isImage);
    return toSplit(flat ? scanFlat(valDir, top, classIndex, ctx) : scanClassFolders(top, classIndex, ctx));
  };
  return photoSource('imagefolder', classes, load);
}
