/**
 * What one bench-gpu run records (results.json) and what its sections share: the types
 * only, so that sections and reports import them without importing each other.
 */
import type { BufferLimits } from '../../src/backend/webgpu/device_errors.js';
import type { DataResult } from './data.js';
import type { E2eResult } from './e2e.js';
import type { EpochResult } from './epoch.js';
import type { FusedRow } from './fused.js';
import type { ConvKernelRow } from './kernels.js';
import type { NumericsResult } from './numerics.js';
import type { SectionBase } from './options.js';
import type { StepProfile, StepRow } from './steps.js';
import type { TorchResult } from './torch.js';

export interface BenchResults {
  date: string;
  adapter: string;
  gpu: string | null;
  node: string;
  tfjs: string;
  options: Record<string, unknown>;
  steps: StepRow[];
  variants: StepRow[];
  torch: TorchResult;
  profiles: StepProfile[];
  kernels: Record<string, ConvKernelRow[]>;
  fused: FusedRow[];
  numerics: NumericsResult[];
  epoch: EpochResult | { skipped: string } | null;
  /** The device's buffer limits (the adapter's maximum, src/backend/webgpu/init.ts). */
  limits: BufferLimits | null;
  /** Issue 16: the 224 px rows (imagenet.ts), their PyTorch rows, the data pipeline, the end-to-end epoch. */
  imagenet: StepRow[];
  torchImagenet: TorchResult;
  data: DataResult | null;
  e2e: E2eResult | null;
  /** Rows and sections left out, and why. */
  notes: string[];
  errors: string[];
  wallS: number;
}

/** What an issue-16 section gets: the results so far, the options, the time left. */
export type IssueContext = SectionBase & { r: BenchResults };
