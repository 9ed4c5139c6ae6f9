/**
 * Building blocks with hand-written backward passes. A network is a tree of
 * Modules; training runs `forward` (saving what the backward needs in a
 * ForwardContext) and then `backward`, which asks a FeedbackSource for the kernel
 * each conv/dense layer sends δ through (eq. 3). Nothing here knows which
 * learning rule is in use.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalArray } from '../../util/rng.js';

/** A trainable tensor with a stable checkpoint name. */
export interface Param {
  name: string;
  value: tf.Variable;
  /** Whether L2 weight decay applies (configurable for biases and BatchNorm γ/β). */
  isWeight: boolean;
}

/**
 * train: batch statistics, running statistics updated.
 * probe: batch statistics, nothing updated (δ angles, all-at-once mirroring).
 * eval: running statistics.
 */
export type Mode = 'train' | 'probe' | 'eval';

export class ForwardContext {
  readonly saved = new Map<object, unknown>();
  /** When set, every FeedbackLayer stores its input and (pre-activation) output here. */
  readonly io: Map<FeedbackLayer, { x: tf.Tensor; y: tf.Tensor }> | null;
  constructor(
    readonly mode: Mode,
    recordIO = false,
  ) {
    this.io = recordIO ? new Map() : null;
  }
  save<T>(owner: object, value: T): void {
    this.saved.set(owner, value);
  }
  get<T>(owner: object): T {
    const v = this.saved.get(owner);
    if (v === undefined) throw new Error('backward called before forward');
    return v as T;
  }
}

export interface BackwardContext {
  /** The kernel δ is multiplied by at this layer (W for backprop, B or sign(W)·s otherwise). */
  feedback(layer: FeedbackLayer): tf.Tensor;
  /**
   * A δ for the layers below this layer that the rule supplies itself, in place of F·δ
   * (DFA: the output error through a fixed random matrix); null or absent: eq. 3 with `feedback`.
   */
  directDelta?(layer: FeedbackLayer): tf.Tensor | null;
  /** Parameter gradients are accumulated here; null = skip them (δ-only passes). */
  grads: Map<Param, tf.Tensor> | null;
  /** When set, δ at every FeedbackLayer's output is stored here (for δ angles). */
  deltas?: Map<FeedbackLayer, tf.Tensor>;
}

export interface Module {
  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
  /** dL/dx from dL/dy; accumulates parameter gradients into bctx.grads. */
  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor;
  params(): Param[];
  /** Non-trainable state to checkpoint (BatchNorm running statistics). */
  buffers(): Param[];
  feedbackLayers(): FeedbackLayer[];
}

/** A conv or dense layer: forward weights W, feedback weights B of the same shape. */
export interface FeedbackLayer extends Module {
  readonly name: string;
  readonly kind: 'conv' | 'dense';
  readonly W: Param;
  /** Feedback weights, W's shape (DFA's: [input size, classes]); created by the learning rule (null under backprop, which uses W). */
  B: Param | null;
  readonly fanIn: number;
  readonly fanOut: number;
  /** Input shape without the batch dimension, known after the first forward pass. */
  inputShape: number[] | null;
  /** y = x·W (conv or matmul), no bias: the linear map whose transpose the feedback path imitates. */
  linear(x: tf.Tensor, W?: tf.Tensor): tf.Tensor;
  /** Σ over positions of xᵀ·dy in W's layout (the weight gradient, eq. 4). */
  weightGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor;
  /**
   * How many (input, output) pairs each weight connects per example, broadcastable
   * to W (conv: valid output positions per tap, zero padding excluded; dense: 1).
   */
  pairsPerExample(x: tf.Tensor): tf.Tensor | number;
}

/** Sum a gradient into the map (a parameter may receive several contributions). */
export function addGrad(grads: Map<Param, tf.Tensor> | null, p: Param, g: tf.Tensor): void {
  if (!grads) return;
  const prev = grads.get(p);
  grads.set(p, prev ? tf.add(prev, g) : g);
}

/** A non-trainable variable initialised from `init`, which it takes ownership of (disposes). */
export function ownedVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, false);
  init.dispose();
  return v;
}

/** He/Kaiming-normal (fan-in) initial weights, drawn from `seed`. */
export function heNormal(shape: number[], fanIn: number, seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(normalArray(size, seed, Math.sqrt(2 / fanIn)), shape);
}
