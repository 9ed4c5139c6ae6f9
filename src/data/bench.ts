/**
 * `wtrain data bench` and scripts/bench-data: images/s the pipeline delivers (read +
 * decode + augment + batch) for a config, per decode-thread count.
 */
import type { DataConfig } from './config.js';
import { DataError, type DataLogger } from './errors.js';
import { buildLoader } from './setup.js';
import type { Split } from './types.js';

export interface BenchRow {
  label: string;
  /** Decode threads actually used (0 = main thread: raw pixels need no decode threads). */
  threads: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
}

export interface BenchOptions {
  threads: number[];
  /** Images to time per row (after one warm-up batch, which also starts the threads). */
  images: number;
  batchSize: number;
  split?: Split;
  label?: string;
  logger?: DataLogger;
}

/** Time the loader of `resolved` (absolute paths) once per thread count. */
export async function benchLoader(resolved: DataConfig, opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const split = opts.split ?? 'train';
  for (const workers of opts.threads) {
    const loader = await buildLoader(resolved, {
      seed: 0,
      batchSize: opts.batchSize,
      workers,
      logger: opts.logger,
      splits: [split],
    });
    try {
      if (rows.some((r) => r.threads === loader.threads)) continue; // raw sources ignore the thread count
      if (loader.batchesPerEpoch(split) === 0) break;
      let images = 0;
      let start = 0;
      let warm = false;
      for (let epoch = 0; images < opts.images; epoch++) {
        let batches = 0;
        for await (const b of loader.epochBatches(split, epoch)) {
          batches++;
          if (!warm) {
            warm = true;
            start = performance.now();
            continue;
          }
          images += b.n;
          if (images >= opts.images) break;
        }
        // Every sample unreadable: the epochs are empty, and the loop would never end.
        if (batches === 0) throw new DataError(`the ${split} split yields no readable batch to time`);
      }
      const seconds = (performance.now() - start) / 1000;
      rows.push({
        label: opts.label ?? resolved.source,
        threads: loader.threads,
        images,
        seconds,
        imagesPerSec: images / seconds,
      });
    } finally {
      await loader.close();
    }
  }
  return rows;
}

export function formatBench(rows: BenchRow[]): string {
  const head =
    '| pipeline | decode threads | images | seconds | images/s |\n| --- | ---: | ---: | ---: | ---: |';
  const body = rows.map(
    (r) =>
      `| ${r.label} | ${r.threads === 0 ? 'main' : r.threads} | ${r.images} | ${r.seconds.toFixed(2)} | ${Math.round(r.imagesPerSec)} |`,
  );
  return [head, ...body].join('\n');
}
