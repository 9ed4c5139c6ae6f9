/**
 * WebDataset tar shards: files grouped into samples by basename up to the first dot
 * (`n01440764_10026.jpg` + `n01440764_10026.cls`), members of a sample adjacent in the
 * tar. Streamed with tar-stream: one shard open at a time, one member in memory at a time.
 * Gzip-compressed shards (`.tar.gz`/`.tgz`) are gunzipped on the fly (see ../formats/tar-index.ts).
 */
import { DataError, errorMessage, type Skip, type SkipLog, where } from '../errors.js';
import { listTar, openTar } from '../formats/tar-index.js';
import type { StoredRef } from './label-base.js';
import { openShardSource } from './shards.js';
import type { DataSource, SourceContext } from './source.js';

const IMAGE_EXTS = new Set(['jpg', 'jpeg', 'png', 'webp']);
/** Label files, most specific first (a `.txt` is only used when there is no `.cls`/`.json`). */
const LABEL_EXTS = ['cls', 'json', 'txt'];

/** `dir/base.ext.more` -> key `dir/base`, ext `ext.more` (lower case). */
export function splitMember(name: string): { key: string; ext: string } {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  if (dot < 0) return { key: name, ext: '' };
  return { key: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

interface Group {
  key: string;
  /** Extensions of all its members, for the message when it lacks an image or label. */
  exts: string[];
  image?: { bytes: Buffer; member: string };
  label?: { text: string; ext: string; member: string };
}

const labelRank = (ext: string) => LABEL_EXTS.indexOf(ext);

/** Samples (complete groups) in a shard, from its headers; stops where the archive is damaged. */
async function countShard(file: string): Promise<number> {
  const { members } = await listTar(file);
  let count = 0;
  let key: string | null = null;
  let image = false;
  let label = false;
  const close = () => {
    if (image && label) count++;
  };
  for (const m of members) {
    const s = splitMember(m.name);
    if (s.key !== key) {
      close();
      key = s.key;
      image = label = false;
    }
    image ||= IMAGE_EXTS.has(s.ext);
    label ||= labelRank(s.ext) >= 0;
  }
  close();
  return count;
}

/** The stored label of a `.cls`/`.txt` (an integer) or `.json` (a number, or {label|cls|class}). */
function parseLabel(text: string, ext: string): number | undefined {
  const t = text.trim();
  if (ext !== 'json') return /^-?\d+$/.test(t) ? Number(t) : undefined;
  try {
    const v = JSON.parse(t);
    const n = typeof v === 'number' ? v : (v?.label ?? v?.cls ?? v?.class);
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a group has no image or label, with its members: `a.v2.jpg` is key `a`, ext `v2.jpg`
 * by the WebDataset convention, which users with dotted names don't expect, so say so.
 */
function missingDetail(g: Group): string {
  const listed = g.exts.length > 6 ? [...g.exts.slice(0, 6), '...'] : g.exts;
  const dotted = g.exts.some((e) => {
    const last = e.slice(e.lastIndexOf('.') + 1);
    return e.includes('.') && (IMAGE_EXTS.has(last) || labelRank(last) >= 0);
  });
  const note = dotted ? '; WebDataset keys end at the first dot of the file name' : '';
  return `sample '${g.key}' has no ${g.image ? 'label' : 'image'} file (members: ${listed.join(', ')}${note})`;
}

/** A complete group as a unit with its stored label; an incomplete one is no unit (logged in `skips`). */
function toSample(file: string, g: Group, skips: SkipLog): StoredRef | null {
  if (!g.image || !g.label) {
    const reason = g.image ? 'missing_label' : 'missing_image';
    skips.add({ reason, where: where(file, { member: g.key }), detail: missingDetail(g) });
    return null;
  }
  const at = where(file, { member: g.label.member });
  const stored = parseLabel(g.label.text, g.label.ext);
  if (stored === undefined) {
    const skip: Skip = {
      reason: 'bad_label',
      where: at,
      detail: `expected an integer label, got '${g.label.text.slice(0, 40)}'`,
    };
    return { label: -1, where: at, skip };
  }
  return {
    label: stored,
    where: where(file, { member: g.image.member }),
    bytes: g.image.bytes,
    keys: `.${g.label.ext}`,
    labelWhere: at,
  };
}

/** A tar member's bytes (tar-stream's entries are streamx Readables: async-iterable, untyped as such). */
async function readEntry(entry: object): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function* readShard(file: string, skips: SkipLog): AsyncGenerator<StoredRef> {
  const { extract, gzip, close } = await openTar(file); // DataError if it can't be opened or isn't a tar
  let group: Group | null = null;
  const flush = () => {
    const s = group ? toSample(file, group, skips) : null;
    group = null;
    return s;
  };
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      // Regular files only (as the header count): `contiguous-file` is type 7, a regular file too.
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        await readEntry(entry);
        continue;
      }
      const { key, ext } = splitMember(name);
      if (group && group.key !== key) {
        const s = flush();
        if (s) yield s;
      }
      group ??= { key, exts: [] };
      const g: Group = group;
      g.exts.push(ext);
      if (IMAGE_EXTS.has(ext) && !g.image) g.image = { bytes: await readEntry(entry), member: name };
      else if (labelRank(ext) >= 0 && (!g.label || labelRank(ext) < labelRank(g.label.ext))) {
        g.label = { text: (await readEntry(entry)).toString('utf8'), ext, member: name };
      } else await readEntry(entry);
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    // A damaged or truncated archive: keep what was read intact, skip the rest of the shard
    // (a sample cut short is part of that rest, as in the header count).
    skips.add({
      reason: 'truncated_shard',
      where: file,
      detail: `${gzip ? 'gzip-compressed ' : ''}tar stream broken: ${errorMessage(err)}`,
    });
    const g = group as Group | null;
    if (!g?.image || !g.label) group = null;
  } finally {
    close();
  }
  const last = flush();
  if (last) yield last;
}

export function openWebDataset(ctx: SourceContext): DataSource {
  return openShardSource(ctx, {
    name: 'webdataset',
    count: countShard,
    read: readShard,
    // The WebDataset spec leaves a label file's base to the writer: the stored labels decide.
    specBase: () => undefined,
    baseHint: 'set data.label_base: 0 or 1 (how the .cls/.json/.txt labels were written)',
  });
}
