/**
 * The data pipeline at 224 px on the GPU node (issue 16, item 3): the ImageNet-like JPEG
 * set made from the carried Imagewoof images (scripts/bench-data-imagenet.ts), the
 * loader's decode + RandomResizedCrop + flip rate for each decode-thread count, and one
 * image's decode vs crop time. The set is written under BENCH_WORK (not $OUT) and reused
 * by the end-to-end epoch (e2e.ts).
 *
 * Each rate is taken in a child process (`bench-gpu.mjs data-rate`), because sharp decodes
 * on libuv's thread pool, which is one per process, shared by every worker thread, and
 * sized once, at its first use, from UV_THREADPOOL_SIZE (default 4): in this process it
 * has long been running, and with 4 threads at most 4 images decode at once however many
 * decode workers the loader has. The rows run with the pool sized to the decode threads,
 * and the counts above 4 once more with Node's default, which is what `wtrain run` gets
 * unless UV_THREADPOOL_SIZE is set before it starts.
 */
import { spawnSync } from 'node:child_process';
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
import type { SectionBase } from './options.js';

/** The data section's part of the results (results.ts's BenchResults has it). */
export type DataContext = SectionBase & { r: { data: DataResult | null; notes: string[] } };

/** A rate and the libuv pool size it ran with (null: UV_THREADPOOL_SIZE unset, Node's default of 4). */
export type DataRow = BenchRow & { uvThreads: number | null };

export interface DataResult {
  set: ImagenetLikeSet;
  cores: number;
  cpu: string;
  size: number;
  batch: number;
  rows: DataRow[];
  split: CostSplit | null;
}

/** The libuv pool that lets `threads` decode threads decode at once (plus a few for file reads). */
export const uvPoolFor = (threads: number) => Math.max(4, threads + 2);

/** `bench-gpu.mjs data-rate DIR SIZE THREADS PER_THREAD BATCH`: one rate, as JSON on stdout (a child of dataSection). */
export async function dataRate(argv: string[]): Promise<number> {
  const [dir, size, threads, perThread, batch] = [argv[0], ...argv.slice(1, 5).map(Number)];
  const [row] = await sweepThreads(dir, size, [threads], { perThread, batchSize: batch });
  process.stdout.write(`${JSON.stringify(row ?? null)}\n`);
  return row ? 0 : 1;
}

/** One rate in a child process with the given libuv pool (null: unset). */
function rateInChild(
  dir: string,
  size: number,
  threads: number,
  perThread: number,
  batch: number,
  uv: number | null,
): DataRow {
  const env = { ...process.env };
  if (uv === null) delete env.UV_THREADPOOL_SIZE;
  else env.UV_THREADPOOL_SIZE = String(uv);
  const args = [
    ...process.execArgv,
    process.argv[1],
    'data-rate',
    dir,
    ...[size, threads, perThread, batch].map(String),
  ];
  const res = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 120_000 });
  const line = (res.stdout ?? '').trim().split('\n').at(-1) ?? '';
  if (res.status !== 0 || !line.startsWith('{'))
    throw new Error(
      `data-rate (${threads} threads) exited ${res.status ?? res.signal}: ${(res.stderr ?? '').trim().split('\n').at(-1)}`,
    );
  return { ...(JSON.parse(line) as BenchRow), uvThreads: uv };
}

/** Where bench-gpu writes large scratch files (the image set, the epoch's run directory). */
export const workDir = () => process.env.BENCH_WORK || path.join(tmpdir(), 'wtrain-bench');

let made: Promise<ImagenetLikeSet> | null = null;

/**
 * The ImageNet-like set from --woof (made once per process; reused from an earlier call
 * when its record matches the options).
 */
export function imagenetLikeSet(ctx: SectionBase): Promise<ImagenetLikeSet> {
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

export async function dataSection(ctx: DataContext): Promise<void> {
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
  const perThread = o.tiny ? 16 : 256;
  // Sized pools first (the pipeline as it can run), then Node's default pool where it binds (> 4 threads).
  const runs = [
    ...o.dataThreads.map((t) => ({ threads: t, uv: uvPoolFor(t) as number | null })),
    ...o.dataThreads.filter((t) => t > 4).map((t) => ({ threads: t, uv: null })),
  ];
  for (const { threads, uv } of runs) {
    const pool = uv === null ? 'default libuv pool (4)' : `libuv pool ${uv}`;
    if (ctx.timeLeft() <= 0) {
      r.notes.push(`data pipeline: ${threads} threads, ${pool}: not measured (time budget spent)`);
      continue;
    }
    const row = rateInChild(set.dir, size, threads, perThread, batch, uv);
    result.rows.push(row);
    ctx.log(
      `data pipeline @${size}, ${row.threads} threads, ${pool}: ${Math.round(row.imagesPerSec)} images/s`,
    );
    ctx.save();
  }
  result.split = await costSplit(set.dir, size, o.tiny ? 8 : 64);
  ctx.save();
}
