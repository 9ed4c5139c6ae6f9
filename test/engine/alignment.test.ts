// On a short real training run (the shipped MNIST sample), KP's feedback weights
// align with W (matrix angle falls) while FA's fixed B stays far from W.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLoader, dataConfigSchema } from '../../src/data/index.js';
import { modelConfigSchema } from '../../src/models/config.js';
import { ruleConfigSchema } from '../../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../../src/train/config.js';
import { NetworkTrainer } from '../../src/train/trainer.js';
import { useBackend } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const STEPS = 60;

async function meanAngles(rule: string): Promise<{ start: number; end: number; delta: number }> {
  const data = dataConfigSchema.parse({
    source: 'mnist',
    path: 'data/mnist-sample',
    train: { from: 'test', range: [0, 9000] },
    val: { from: 'test', range: [9000, 10000] },
    workers: 0,
  });
  const loader = await createLoader(data, { seed: 1, batchSize: 32, baseDir: root });
  const engine = new NetworkTrainer(
    {
      model: modelConfigSchema.parse({ arch: 'resnet20', width: 0.5 }),
      rule: ruleConfigSchema.parse({ name: rule }),
      optimizer: optimizerConfigSchema.parse({ lr: 0.1 }),
      train: trainConfigSchema.parse({ seed: 1 }),
    },
    loader.info,
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  let first: Awaited<ReturnType<NetworkTrainer['angles']>> | null = null;
  let probe = null;
  let steps = 0;
  for await (const batch of loader.epochBatches('train', 0)) {
    if (!first) {
      probe = batch;
      first = await engine.angles(batch);
    }
    engine.trainStep(batch, 0.1);
    if (++steps === STEPS) break;
  }
  const last = await engine.angles(probe!);
  await loader.close();
  engine.dispose();
  return {
    start: mean(first!.map((a) => a.matrixAngle)),
    end: mean(last.map((a) => a.matrixAngle)),
    delta: mean(last.map((a) => a.deltaAngle)),
  };
}

test(`KP's matrix angle falls while FA's does not (${STEPS} steps on the MNIST sample)`, async () => {
  await useBackend('wasm');
  const kp = await meanAngles('kp');
  const fa = await meanAngles('fa');
  console.log(`KP matrix angle ${kp.start.toFixed(1)}° → ${kp.end.toFixed(1)}°, δ ${kp.delta.toFixed(1)}°`);
  console.log(`FA matrix angle ${fa.start.toFixed(1)}° → ${fa.end.toFixed(1)}°, δ ${fa.delta.toFixed(1)}°`);
  assert.ok(kp.start > 80 && fa.start > 80, 'both start from random, unaligned B');
  assert.ok(kp.end < kp.start - 15, `KP angle should fall: ${kp.start} → ${kp.end}`);
  assert.ok(fa.end > fa.start - 5, `FA's fixed B should stay unaligned: ${fa.start} → ${fa.end}`);
});
