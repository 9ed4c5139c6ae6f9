/**
 * The data pipeline at 224 px on the GPU node (issue 16, item 3): the ImageNet-like JPEG
 * set made from the carried Imagewoof images (scripts/bench-data-imagenet.ts), the
 * loader's decode + RandomResizedCrop + flip rate for each decode-thread count, and one
 * image's decode vs crop time. The set is written under BENCH_WORK (not $OUT) and reused
 * by the end-to-end epoch (e2e.ts).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchRow } from '../../src/data/bench.js';
import {
  type CostSplit,
  costSplit,
  type ImagenetLikeSet,
  makeImagenetLike,
  sweepThreads,
} from '../bench-data-imagenet.js';
import type { IssueContext } from './imagenet.js';

export interface DataResult {
  set: ImagenetLikeSet;
  cores: number;
  cpu: string;
  size: number;
  batch: number;
  rows: BenchRow[];
  split: CostSplit | null;
}

/** Where bench-gpu writes large scratch files (the image set, the epoch's run directory). */
export const workDir = () => process.env.BENCH_WORK || path.join(tmpdir(), 'wtrain-bench');

let made: Promise<ImagenetLikeSet> | null = null;

/**
 * The ImageNet-like set from --woof (made once per process; reused from an earlier call
 * when its record matches the options).
 */
export function imagenetLikeSet(ctx: IssueContext): Promise<ImagenetLikeSet> {
  const { o } = ctx;
  if (!o.woof)
    return Promise.reject(new Error('no --woof DIR (Imagewoof-like train/ and val/ folders) given'));
  const woof = o.woof;
  made ??= (async () => {
    const dst = path.join(workDir(), 'imagenet-like');
    const record = path.join(dst, 'made.json');
    const want = { src: path.resolve(woof), train: o.woofTrainPerClass, val: o.woofValPerClass };
    if (existsSync(record)) {
      const old = JSON.parse(readFileSync(record, 'utf8')) as { want: typeof want; set: ImagenetLikeSet };
      if (JSON.stringify(old.want) === JSON.stringify(want)) return old.set;
    }
    rmSync(dst, { recursive: true, force: true });
    const set = await makeImagenetLike({
      src: woof,
      dst,
      trainPerClass: o.woofTrainPerClass,
      valPerClass: o.woofValPerClass,
    });
    writeFileSync(record, JSON.stringify({ want, set }));
    ctx.log(
      `imagenet-like set: ${set.train} train + ${set.val} val images, ${set.meanWidth.toFixed(0)}x${set.meanHeight.toFixed(0)} px, ` +
        `${set.meanKb.toFixed(0)} KB (quality ${set.quality}) in ${set.seconds.toFixed(1)} s`,
    );
    return set;
  })();
  return made;
}

export async function dataSection(ctx: IssueContext): Promise<void> {
  const { r, o } = ctx;
  const set = await imagenetLikeSet(ctx);
  const size = 224;
  const batch = o.tiny ? 8 : 128;
  const result: DataResult = {
    set,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? '?',
    size,
    batch,
    rows: [],
    split: null,
  };
  r.data = result;
  for (const threads of o.dataThreads) {
    if (ctx.timeLeft() <= 0) {
      r.notes.push(`data pipeline: ${threads} threads not measured (time budget spent)`);
      continue;
    }
    const [row] = await sweepThreads(set.dir, size, [threads], {
      perThread: o.tiny ? 16 : 256,
      batchSize: batch,
    });
    if (row) {
      result.rows.push(row);
      ctx.log(`data pipeline @${size}, ${row.threads} threads: ${Math.round(row.imagesPerSec)} images/s`);
    }
    ctx.save();
  }
  result.split = await costSplit(set.dir, size, o.tiny ? 8 : 64);
  ctx.save();
}
