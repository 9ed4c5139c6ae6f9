/**
 * ImageNet's label files for a flat `val/` folder, and the wnid lists that name classes:
 * - Kaggle: `LOC_val_solution.csv` (`ImageId,PredictionString`, wnid first) and
 *   `LOC_synset_mapping.txt` (`n01440764 tench, Tinca tinca`, one per line);
 * - devkit: `ILSVRC2012_validation_ground_truth.txt` (line i = ILSVRC2012_ID of
 *   ILSVRC2012_val_<i>.JPEG). Those ids are ImageNet's own ordering, NOT the alphabetical
 *   class index: they go through `meta.mat`'s `synsets` (ILSVRC2012_ID -> WNID).
 */
import { readFileSync } from 'node:fs';
import { DataError, errorMessage } from '../errors.js';
import { readMat } from './matlab.js';

/** Image file stem (`ILSVRC2012_val_00000001`) -> wnid. */
export type ValLabels = Map<string, string>;

/**
 * A label file as text, without the UTF-8 byte-order mark that Excel and Windows Notepad
 * put first (it would otherwise be part of the header or first id). Lines are split on
 * `\r?\n` by the callers, so CRLF files read the same.
 */
function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new DataError(`cannot read ${what} ${file}: ${errorMessage(err)}`);
  }
}

const WNID = /^n\d{8}$/;

export function readLocValSolution(file: string): ValLabels {
  const lines = readText(file, 'val labels').split(/\r?\n/);
  if (!/^ImageId,PredictionString/.test(lines[0] ?? '')) {
    throw new DataError(
      `${file}: expected a header 'ImageId,PredictionString' (Kaggle LOC_val_solution.csv)`,
    );
  }
  const out: ValLabels = new Map();
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const [id, pred = ''] = line.split(',');
    const wnid = pred.trim().split(/\s+/)[0];
    if (!WNID.test(wnid))
      throw new DataError(`${file}:${i + 2}: expected a wnid like n01440764, got '${wnid}'`);
    out.set(id.trim(), wnid);
  });
  return out;
}

/** `LOC_synset_mapping.txt`: wnids in file order, with their human-readable names. */
export function readSynsetMapping(file: string): { wnids: string[]; names: string[] } {
  const wnids: string[] = [];
  const names: string[] = [];
  readText(file, 'synset mapping')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const m = /^(\S+)\s*(.*)$/.exec(line.trim())!;
      if (!WNID.test(m[1])) throw new DataError(`${file}:${i + 1}: expected '<wnid> <name>', got '${line}'`);
      wnids.push(m[1]);
      names.push(m[2]);
    });
  return { wnids, names };
}

/** The devkit's meta.mat: ILSVRC2012_ID (1..1000 for the classification classes) -> wnid. */
export function readDevkitMeta(file: string): Map<number, string> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new DataError(`cannot read devkit meta ${file}: ${errorMessage(err)}`);
  }
  const synsets = readMat(buf, file).get('synsets');
  if (
    synsets?.kind !== 'struct' ||
    !synsets.fields.includes('ILSVRC2012_ID') ||
    !synsets.fields.includes('WNID')
  ) {
    throw new DataError(`${file}: expected a struct array 'synsets' with fields ILSVRC2012_ID and WNID`);
  }
  const map = new Map<number, string>();
  for (const s of synsets.elements) {
    const id = s.ILSVRC2012_ID;
    const wnid = s.WNID;
    if (id.kind === 'numeric' && wnid.kind === 'char' && id.values.length === 1)
      map.set(id.values[0], wnid.text);
  }
  return map;
}

/**
 * `ILSVRC2012_validation_ground_truth.txt` mapped through the devkit meta. An id the meta
 * doesn't know is an error naming the line (never guessed).
 */
export function readDevkitGroundTruth(
  file: string,
  idToWnid: Map<number, string>,
  metaFile: string,
): ValLabels {
  const out: ValLabels = new Map();
  const lines = readText(file, 'val ground truth').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const id = Number(line.trim());
    const wnid = idToWnid.get(id);
    if (!Number.isInteger(id) || wnid === undefined) {
      throw new DataError(
        `${file}:${i + 1}: label '${line.trim()}' is not an ILSVRC2012_ID listed in ${metaFile}`,
      );
    }
    out.set(`ILSVRC2012_val_${String(i + 1).padStart(8, '0')}`, wnid);
  });
  return out;
}
