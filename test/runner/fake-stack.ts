/**
 * A tiny deterministic stand-in for the engine and data layer, so runner tests run in
 * milliseconds: a "model" of 4 weights nudged by each batch, batches derived from
 * (epoch, index), metrics computed in plain JS.
 */
import '../../src/backend/cpu.js';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, BatchLoader, DatasetInfo, Split } from '../../src/data/types.js';
import type { TrainingStack } from '../../src/runner/stack.js';
import type { ClassMetrics, LayerAngle, Trainer, TrainerState } from '../../src/train/types.js';

export interface FakeOptions {
  trainBatches?: number;
  valBatches?: number;
  batchSize?: number;
  warmupEpochs?: number;
  /** Make the loss non-finite from this optimiser step on. */
  nanAtStep?: number;
  /** Called after every train step (e.g. to request a stop). */
  onStep?: (step: number) => void;
  /** From this optimiser step on, verifyDevice() throws (a device error, as on webgpu). */
  deviceErrorAtStep?: number;
  /** Train batches the data really holds per epoch (fewer than counted: a damaged shard). */
  trainYields?: number;
  /** Samples the loader dropped while listing the data (stats().skipped from the start). */
  listingSkips?: number;
  /** Train batch positions with no readable sample: left out, as a sharded split does. */
  unreadableTrainBatches?: number[];
  /** Milliseconds each evaluation takes. */
  evalDelayMs?: number;
}

const INFO: DatasetInfo = {
  source: 'fake',
  numClasses: 10,
  classNames: [...'0123456789'],
  height: 2,
  width: 2,
  channels: 1,
  mean: [0.5],
  std: [0.5],
  trainSize: 0,
  valSize: 0,
};

function makeBatch(split: Split, epoch: number, index: number, n: number): Batch {
  const x = new Uint8Array(n * 4);
  const y = new Int32Array(n);
  let s = (epoch * 7919 + index * 104729 + (split === 'val' ? 99991 : 1)) >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = s >>> 24;
  }
  for (let i = 0; i < n; i++) y[i] = x[i * 4] % 10;
  return { x, y, n, height: 2, width: 2, channels: 1 };
}

export class FakeLoader implements BatchLoader {
  readonly info: DatasetInfo;
  closed = false;
  constructor(
    private readonly o: Required<Pick<FakeOptions, 'trainBatches' | 'valBatches' | 'batchSize'>> &
      Pick<FakeOptions, 'trainYields' | 'listingSkips' | 'unreadableTrainBatches'>,
  ) {
    this.info = { ...INFO, trainSize: o.trainBatches * o.batchSize, valSize: o.valBatches * o.batchSize };
  }
  batchesPerEpoch(split: Split): number {
    return split === 'train' ? this.o.trainBatches : this.o.valBatches;
  }
  async *epochBatches(split: Split, epoch: number, startBatch = 0): AsyncIterable<Batch> {
    const end = split === 'train' ? (this.o.trainYields ?? this.o.trainBatches) : this.o.valBatches;
    for (let i = startBatch; i < end; i++) {
      if (split === 'train' && this.o.unreadableTrainBatches?.includes(i)) continue;
      yield { ...makeBatch(split, epoch, i, this.o.batchSize), index: i };
    }
  }
  stats() {
    return { skipped: this.o.listingSkips ?? 0, byReason: {} };
  }
  async close() {
    this.closed = true;
  }
}

export class FakeTrainer implements Trainer {
  readonly layerNames = ['conv0', 'conv1', 'fc'];
  readonly paramCount = 4;
  step = 0;
  mirrorSteps = 0;
  private firstBad: number | null = null;
  w = new Float64Array([0.1, -0.2, 0.3, 0.05]);
  private acc = { loss: 0, c1: 0, c5: 0, n: 0 };
  private lastLoss = 0;

  constructor(private readonly o: FakeOptions) {}

  get warmupEpochs(): number {
    return this.o.warmupEpochs ?? 0;
  }

  private lossOf(batch: Batch): number {
    let l = 0;
    for (let i = 0; i < batch.x.length; i++) l += (batch.x[i] / 255 - this.w[i % 4]) ** 2;
    return l / batch.n;
  }

  trainStep(batch: Batch, lr: number): void {
    const loss = this.lossOf(batch);
    for (let i = 0; i < batch.x.length; i++)
      this.w[i % 4] += (lr * (batch.x[i] / 255 - this.w[i % 4])) / batch.x.length;
    this.step++;
    this.lastLoss = this.o.nanAtStep !== undefined && this.step >= this.o.nanAtStep ? Number.NaN : loss;
    if (!Number.isFinite(this.lastLoss) && this.firstBad === null) this.firstBad = this.step;
    // In float32, as the real trainer sums on the device: where the sums are read matters.
    this.acc.loss = Math.fround(this.acc.loss + Math.fround(loss * batch.n));
    this.acc.c1 += Math.round(batch.n * Math.min(1, 0.1 + this.step / 50));
    this.acc.c5 += batch.n;
    this.acc.n += batch.n;
    this.o.onStep?.(this.step);
  }

  mirrorStep(): void {
    this.mirrorSteps++;
  }

  async takeTrainMetrics(): Promise<ClassMetrics> {
    const a = this.acc;
    this.acc = { loss: 0, c1: 0, c5: 0, n: 0 };
    const d = a.n || 1;
    return { loss: a.loss / d, top1Error: 1 - a.c1 / d, top5Error: 1 - a.c5 / d, samples: a.n };
  }

  async evaluate(batches: AsyncIterable<Batch>, maxBatches?: number): Promise<ClassMetrics> {
    if (this.o.evalDelayMs) await new Promise((r) => setTimeout(r, this.o.evalDelayMs));
    let loss = 0;
    let n = 0;
    let k = 0;
    for await (const b of batches) {
      if (maxBatches !== undefined && k++ >= maxBatches) break;
      loss += this.lossOf(b) * b.n;
      n += b.n;
    }
    const top1 = Math.max(0.02, 0.9 - this.step / 40);
    return { loss: loss / n, top1Error: top1, top5Error: top1 / 3, samples: n };
  }

  async angles(_batch: Batch): Promise<LayerAngle[]> {
    return this.layerNames.map((layer, index) => ({
      layer,
      index,
      matrixAngle: 90 / (1 + this.step + index),
      deltaAngle: 60 / (1 + this.step + index),
    }));
  }

  async lossIsFinite(): Promise<boolean> {
    return this.firstBad === null;
  }

  async firstNonFiniteStep(): Promise<number | null> {
    return this.firstBad;
  }

  async settle(): Promise<void> {}

  async verifyDevice(): Promise<void> {
    const at = this.o.deviceErrorAtStep;
    if (at !== undefined && this.step >= at) throw new Error(`fake device error since step ${at}`);
  }

  getState(): TrainerState {
    return {
      tensors: { w: tf.tensor(Float32Array.from(this.w), [4]), steps: tf.tensor([this.step], [1], 'int32') },
      scalars: {
        step: this.step,
        mirror: this.mirrorSteps,
        w0: this.w[0],
        w1: this.w[1],
        w2: this.w[2],
        w3: this.w[3],
        // Unread metric sums travel with the state, as the real trainer's do.
        acc_loss: this.acc.loss,
        acc_c1: this.acc.c1,
        acc_c5: this.acc.c5,
        acc_n: this.acc.n,
      },
    };
  }

  setState(state: TrainerState): void {
    this.step = state.scalars.step;
    this.mirrorSteps = state.scalars.mirror;
    // Exact float64 weights travel in scalars; the tensors check the tensor path round-trips.
    this.w = Float64Array.from([state.scalars.w0, state.scalars.w1, state.scalars.w2, state.scalars.w3]);
    const sc = state.scalars;
    this.acc = { loss: sc.acc_loss ?? 0, c1: sc.acc_c1 ?? 0, c5: sc.acc_c5 ?? 0, n: sc.acc_n ?? 0 };
    const t = state.tensors.w.dataSync();
    for (let i = 0; i < 4; i++)
      if (Math.abs(t[i] - this.w[i]) > 1e-6) throw new Error('tensor/scalar mismatch');
  }

  dispose(): void {}
}

export function fakeStack(
  o: FakeOptions = {},
): TrainingStack & { trainers: FakeTrainer[]; loaders: FakeLoader[] } {
  const trainers: FakeTrainer[] = [];
  const loaders: FakeLoader[] = [];
  return {
    trainers,
    loaders,
    async initBackend() {
      await tf.setBackend('cpu');
      return { name: 'cpu', reason: 'fake engine' };
    },
    createLoader(_cfg, opts) {
      const l = new FakeLoader({
        trainBatches: o.trainBatches ?? 5,
        valBatches: o.valBatches ?? 2,
        batchSize: o.batchSize ?? opts.batchSize,
        trainYields: o.trainYields,
        listingSkips: o.listingSkips,
        unreadableTrainBatches: o.unreadableTrainBatches,
      });
      loaders.push(l);
      return l;
    },
    async createTrainer() {
      const t = new FakeTrainer(o);
      trainers.push(t);
      return t;
    },
  };
}
