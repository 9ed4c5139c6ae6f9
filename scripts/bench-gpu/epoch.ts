/**
 * One CIFAR-10 epoch with Kolen-Pollack on ResNet-20: the data loader and trainer
 * `wtrain run` uses (no checkpoints, no logs), at most 2 steps queued on the GPU
 * (webgpuThrottle), loss checked every 50 steps; then one pass over the val split.
 */
import { webgpuThrottle } from '../../src/backend/webgpu/index.js';
import { createLoader, dataConfigSchema } from '../../src/data/index.js';
import type { NetConfig } from './options.js';
import { buildTrainer } from './trainer.js';

export interface EpochResult {
  net: string;
  rule: 'kp';
  data: string;
  steps: number;
  images: number;
  trainWallS: number;
  imgPerSec: number;
  evalWallS: number;
  trainLoss: number;
  trainTop1Error: number;
  valTop1Error: number;
}

/** `limit` (for --tiny) caps the images of each split; null = the whole epoch. `seed`: the data order's. */
export async function cifarEpoch(
  dir: string,
  net: NetConfig,
  limit: number | null = null,
  seed = 0,
): Promise<EpochResult> {
  const split = { limit };
  const cfg = dataConfigSchema.parse({ source: 'cifar10', path: dir, train: split, val: split });
  const loader = await createLoader(cfg, {
    seed,
    batchSize: net.batch,
    baseDir: process.cwd(),
  });
  const trainer = await buildTrainer(net, 'kp', loader.info);
  try {
    const lr = (0.1 * net.batch) / 256;
    let steps = 0;
    let images = 0;
    const t0 = performance.now();
    for await (const batch of loader.epochBatches('train', 0)) {
      trainer.trainStep(batch, lr);
      await webgpuThrottle();
      steps++;
      images += batch.n;
      if (steps % 50 === 0 && !(await trainer.lossIsFinite())) throw new Error('loss is not finite');
    }
    const train = await trainer.takeTrainMetrics();
    const trainWallS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const val = await trainer.evaluate(loader.epochBatches('val', 0));
    const evalWallS = (performance.now() - t1) / 1000;
    return {
      net: net.label,
      rule: 'kp',
      data: `${dir} (${loader.info.trainSize} train / ${loader.info.valSize} val images)`,
      steps,
      images,
      trainWallS,
      imgPerSec: images / trainWallS,
      evalWallS,
      trainLoss: train.loss,
      trainTop1Error: train.top1Error,
      valTop1Error: val.top1Error,
    };
  } finally {
    trainer.dispose();
    await loader.close();
  }
}
