/**
 * The learning engine behind the Trainer interface: a ResNet, a learning rule and
 * SGD. One training step (Alg. 1/2, engaged mode): forward; δ_L = softmax − onehot;
 * backward through the rule's feedback kernels (eq. 3) with the usual weight
 * gradients (eq. 4); SGD on W, biases, BN γ/β and, under KP, on B (eq. 17); then
 * the rule's per-batch work (WM mirroring). Nothing is read back from the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Logger } from 'pino';
import { settleDevice, verifyDevice } from '../backend/index.js';
import { softmaxCrossEntropy } from '../backend/ops/softmax_cross_entropy.js';
import { addToMetricSums, trainLoss } from '../backend/ops/train_loss.js';
import type { Batch, DatasetInfo } from '../data/types.js';
import { angleBetween } from '../metrics/angles.js';
import type { ModelConfig } from '../models/config.js';
import {
  type BackwardContext,
  type FeedbackLayer,
  ForwardContext,
  ownedVariable,
  type Param,
} from '../models/layers/types.js';
import { ResNet } from '../models/resnet.js';
import type { RuleConfig } from '../rules/config.js';
import { createRule, type LearningRule } from '../rules/index.js';
import { seedFrom } from '../util/rng.js';
import type { OptimizerConfig, TrainConfig } from './config.js';
import { batchToTensors } from './input.js';
import { Sgd } from './optimizer.js';
import type { ClassMetrics, LayerAngle, Trainer, TrainerState } from './types.js';

export interface TrainerConfig {
  model: ModelConfig;
  rule: RuleConfig;
  optimizer: OptimizerConfig;
  train: TrainConfig;
}

class Accumulator {
  /** [Σ loss·n, top-1 hits, top-5 hits, n] since the last take(); trainLoss adds to it. */
  readonly sums = ownedVariable(tf.zeros([4]));
  add(loss: tf.Scalar, c1: tf.Scalar, c5: tf.Scalar, n: number): void {
    addToMetricSums(this.sums, loss, c1, c5, n);
  }
  async take(): Promise<ClassMetrics> {
    const [loss, c1, c5, n] = Array.from(await this.sums.data());
    tf.tidy(() => this.sums.assign(tf.zeros([4])));
    const d = n || 1;
    // (d - hits) / d, not 1 - hits / d: 61 misses in 1000 read 0.061, not 0.061000000000000054.
    return { loss: loss / d, top1Error: (d - c1) / d, top5Error: (d - c5) / d, samples: n };
  }
  dispose(): void {
    this.sums.dispose();
  }
}

export class NetworkTrainer implements Trainer {
  readonly model: ResNet;
  readonly rule: LearningRule;
  readonly layers: FeedbackLayer[];
  private readonly sgd: Sgd;
  private readonly metrics = new Accumulator();
  /** 1-based step of the first non-finite loss, −1 while all are finite. */
  private readonly badStep = ownedVariable(tf.scalar(-1));
  step = 0;

  constructor(
    readonly cfg: TrainerConfig,
    readonly info: DatasetInfo,
  ) {
    const numClasses = cfg.model.num_classes === 'auto' ? info.numClasses : cfg.model.num_classes;
    const seed = seedFrom(cfg.train.seed, 'model');
    this.model = new ResNet(cfg.model, info.channels, numClasses, seed);
    this.layers = this.model.feedbackLayers();
    // One forward pass on a single blank image records every layer's input shape.
    tf.tidy(() => {
      this.model.forward(tf.zeros([1, info.height, info.width, info.channels]), new ForwardContext('eval'));
    });
    this.rule = createRule({
      cfg: cfg.rule,
      layers: this.layers,
      seed: seedFrom(cfg.train.seed, 'rule'),
      inputShape: [info.height, info.width, info.channels],
      probeNetwork: (x) => {
        const ctx = new ForwardContext('probe', true);
        this.model.forward(x, ctx);
        return ctx.io as Map<FeedbackLayer, { x: tf.Tensor; y: tf.Tensor }>;
      },
    });
    this.sgd = new Sgd(cfg.optimizer);
  }

  get layerNames(): string[] {
    return this.layers.map((l) => l.name);
  }
  get paramCount(): number {
    return this.model.params().reduce((s, p) => s + p.value.size, 0);
  }
  get warmupEpochs(): number {
    return this.rule.warmupEpochs;
  }

  /** How δ travels back under the rule, from δ_L: its feedback kernels (eq. 3) or its own δ (DFA). */
  private ruleBackward(deltaL: tf.Tensor, grads: Map<Param, tf.Tensor> | null): BackwardContext {
    return {
      feedback: (l) => this.rule.feedback(l) ?? noFeedback(l),
      directDelta: (l) => this.rule.directDelta(l, deltaL),
      grads,
    };
  }

  /**
   * Forward, δ_L, the rule's backward: the loss outputs and every (param, gradient)
   * pair one step applies — forward parameters, plus B under KP (eq. 17). Call inside tf.tidy.
   */
  private lossAndUpdates(batch: Batch, mode: 'train' | 'probe') {
    const { x, y } = batchToTensors(batch, this.info);
    const ctx = new ForwardContext(mode);
    const logits = this.model.forward(x, ctx) as tf.Tensor2D;
    // Training steps also add to the train metrics and the first-bad-step marker, on the device.
    const dLogits =
      mode === 'train'
        ? trainLoss(logits, y, { sums: this.metrics.sums, badStep: this.badStep, step: this.step + 1 })
        : softmaxCrossEntropy(logits, y).dLogits;
    const grads = new Map<Param, tf.Tensor>();
    this.model.backward(dLogits, ctx, this.ruleBackward(dLogits, grads));
    return [...grads.entries(), ...this.rule.feedbackGradients(grads)];
  }

  trainStep(batch: Batch, lr: number): void {
    tf.tidy(() => {
      this.sgd.step(this.lossAndUpdates(batch, 'train'), lr);
    });
    this.step++;
    this.rule.afterStep(this.step);
  }

  mirrorStep(): void {
    this.rule.warmupStep();
  }

  /**
   * The gradients one training step would apply, by parameter name, without
   * applying them (BatchNorm uses batch statistics but its running statistics are
   * left alone). For tests and diagnostics; the caller disposes the tensors.
   */
  gradients(batch: Batch): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      for (const [p, g] of this.lossAndUpdates(batch, 'probe')) out[p.name] = g;
      return out;
    });
  }

  takeTrainMetrics(): Promise<ClassMetrics> {
    return this.metrics.take();
  }

  async firstNonFiniteStep(): Promise<number | null> {
    const bad = (await this.badStep.data())[0];
    return bad < 0 ? null : bad;
  }

  async lossIsFinite(): Promise<boolean> {
    return (await this.firstNonFiniteStep()) === null;
  }

  settle(): Promise<void> {
    return settleDevice();
  }

  verifyDevice(): Promise<void> {
    return verifyDevice();
  }

  async evaluate(batches: AsyncIterable<Batch>, maxBatches?: number): Promise<ClassMetrics> {
    const acc = new Accumulator();
    let count = 0;
    try {
      for await (const batch of batches) {
        if (maxBatches !== undefined && count >= maxBatches) break;
        tf.tidy(() => {
          const { x, y } = batchToTensors(batch, this.info);
          const logits = this.model.forward(x, new ForwardContext('eval')) as tf.Tensor2D;
          const out = softmaxCrossEntropy(logits, y, false);
          acc.add(out.loss, out.correct1, out.correct5, batch.n);
        });
        // As after a training step: on webgpu at most 2 batches stay queued (a large val
        // set from a fast loader would otherwise queue every batch's input at once).
        await this.settle();
        count++;
      }
      return await acc.take();
    } finally {
      acc.dispose();
    }
  }

  async angles(batch: Batch): Promise<LayerAngle[]> {
    const values = tf.tidy(() => {
      const { x, y } = batchToTensors(batch, this.info);
      const ctx = new ForwardContext('probe');
      const logits = this.model.forward(x, ctx) as tf.Tensor2D;
      const { dLogits } = softmaxCrossEntropy(logits, y);
      const ruleDeltas = new Map<FeedbackLayer, tf.Tensor>();
      const bpDeltas = new Map<FeedbackLayer, tf.Tensor>();
      this.model.backward(dLogits, ctx, { ...this.ruleBackward(dLogits, null), deltas: ruleDeltas });
      this.model.backward(dLogits, ctx, { feedback: (l) => l.W.value, grads: null, deltas: bpDeltas });
      const rows = this.layers.map((l) => {
        // No kernel of W's shape (DFA below the head): no matrix angle, NaN (null in angles.jsonl).
        const F = this.rule.feedback(l);
        return tf.stack([
          F ? angleBetween(F, l.W.value) : tf.scalar(Number.NaN),
          angleBetween(ruleDeltas.get(l) as tf.Tensor, bpDeltas.get(l) as tf.Tensor),
        ]);
      });
      return tf.stack(rows);
    });
    const data = await values.data();
    values.dispose();
    return this.layers.map((l, i) => ({
      layer: l.name,
      index: i,
      matrixAngle: data[2 * i],
      deltaAngle: data[2 * i + 1],
    }));
  }

  /** Tensors by checkpoint name (live variables, not copies). */
  namedTensors(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const p of [...this.model.params(), ...this.model.buffers()]) out[p.name] = p.value;
    for (const l of this.layers) if (l.B) out[l.B.name] = l.B.value;
    // Train metrics not yet read: a resume mid-interval then logs the same averages.
    out['metrics/train_sums'] = this.metrics.sums;
    return { ...out, ...this.sgd.state() };
  }

  getState(): TrainerState {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(this.namedTensors())) tensors[k] = v.clone();
    return { tensors, scalars: { step: this.step, ...prefixed('rule/', this.rule.scalars()) } };
  }

  setState(state: TrainerState): void {
    const live = this.namedTensors();
    for (const [k, v] of Object.entries(live)) {
      const t = state.tensors[k];
      if (!t) throw new Error(`checkpoint lacks tensor ${k}`);
      if (t.shape.join('x') !== v.shape.join('x')) {
        throw new Error(`checkpoint tensor ${k} has shape [${t.shape}] but the model needs [${v.shape}]`);
      }
      v.assign(t);
    }
    this.sgd.restore(state.tensors);
    this.step = state.scalars.step ?? 0;
    this.rule.restoreScalars(unprefixed('rule/', state.scalars));
  }

  dispose(): void {
    // namedTensors() covers every variable once: parameters, buffers, B, momenta, metric sums.
    for (const v of Object.values(this.namedTensors())) v.dispose();
    this.badStep.dispose();
    this.rule.dispose();
  }
}

function noFeedback(layer: FeedbackLayer): never {
  throw new Error(`the learning rule gives ${layer.name} neither a feedback kernel nor a δ of its own`);
}

function prefixed(p: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [p + k, v]));
}
function unprefixed(p: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([k]) => k.startsWith(p))
      .map(([k, v]) => [k.slice(p.length), v]),
  );
}

export async function createTrainer(
  cfg: TrainerConfig,
  info: DatasetInfo,
  logger?: Logger,
): Promise<Trainer> {
  const trainer = new NetworkTrainer(cfg, info);
  logger?.info(
    { arch: cfg.model.arch, rule: cfg.rule.name, params: trainer.paramCount, layers: trainer.layers.length },
    'model built',
  );
  return trainer;
}
