/**
 * The contract between the learning engine (src/train, src/models, src/rules) and
 * the experiment runner (src/runner, src/cli). The runner owns epochs, the data
 * loader, logging and checkpoints; the engine owns tensors.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/types.js';

/** Aggregated classification metrics over some samples. Errors are fractions in [0, 1]. */
export interface ClassMetrics {
  loss: number;
  top1Error: number;
  top5Error: number;
  samples: number;
}

/** Per-layer alignment of the feedback path with backprop (paper Fig. 4). Angles in degrees. */
export interface LayerAngle {
  layer: string;
  /** Position from input (0) to output (layers-1). */
  index: number;
  /** Angle between the flattened feedback kernel the rule uses and W (Fig. 4a); NaN where it has none of W's shape (DFA below the head). */
  matrixAngle: number;
  /** Angle between the rule's δ and backprop's δ at this layer's output, same batch, whole chain (Fig. 4b). */
  deltaAngle: number;
}

/** Everything needed to restore a trainer exactly: tensors by name plus JSON-able scalars. */
export interface TrainerState {
  tensors: Record<string, tf.Tensor>;
  /** Global optimiser step count, mirror-step count, etc. */
  scalars: Record<string, number>;
}

export interface Trainer {
  /** Human-readable names of the conv/dense layers, input → output. */
  readonly layerNames: string[];
  readonly paramCount: number;
  /** Optimiser steps taken so far (engaged mode). */
  readonly step: number;
  /**
   * Epochs of the rule's own warm-up before engaged training (WM's mirror-only epochs,
   * rule.wm.mirror_epochs; other rules: 0). During them the runner calls `mirrorStep()` once per batch instead of `trainStep`.
   */
  readonly warmupEpochs: number;
  /** One engaged-mode step at learning rate `lr`: forward, the rule's backward, optimiser update, then the rule's per-batch B update (KP/WM/SS). Accumulates train metrics on the device; reads nothing back. */
  trainStep(batch: Batch, lr: number): void;
  /** One step of the rule's warm-up (WM: a mirror-mode step; a no-op for other rules). */
  mirrorStep(): void;
  /** Train metrics accumulated since the last call (reads back from the device), then resets them. */
  takeTrainMetrics(): Promise<ClassMetrics>;
  /** Loss/top-1/top-5 on the given batches, inference mode (BatchNorm running statistics). */
  evaluate(batches: AsyncIterable<Batch>, maxBatches?: number): Promise<ClassMetrics>;
  /** Matrix and δ angles for every conv/dense layer on this batch (training-mode forward; no update). */
  angles(batch: Batch): Promise<LayerAngle[]>;
  /** Whether every loss so far was finite (reads one scalar). */
  lossIsFinite(): Promise<boolean>;
  /** The first step whose loss was NaN/Inf, tracked on the device (reads one scalar); null if none. */
  firstNonFiniteStep(): Promise<number | null>;
  /**
   * Call once per step: on webgpu, waits while more than two steps are queued on the GPU
   * (tfjs never blocks, and each queued step pins its buffers); immediate elsewhere.
   */
  settle(): Promise<void>;
  /**
   * Waits for all queued device work and throws if the device reported an error since
   * the start (webgpu: a shader that failed to compile, validation, out of memory, device
   * lost; results since are wrong). Before every checkpoint; immediate elsewhere.
   */
  verifyDevice(): Promise<void>;
  /** A snapshot (tensors are clones the caller must dispose). */
  getState(): TrainerState;
  setState(state: TrainerState): void;
  dispose(): void;
}
