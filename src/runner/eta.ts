/**
 * How long a run will take, from the pace of its first batches: per-epoch time, total
 * optimiser steps and time to finish go into every JSON log line (what Slurm captures),
 * and a run estimated to take far longer than is reasonable on its backend (ResNet-50
 * on ImageNet on one wasm thread: months) gets one warning naming faster options.
 */
import { availableParallelism } from 'node:os';

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BackendInfo {
  name: string;
  threads: number;
}

/** Warn when the time to finish is above this. */
export const TOO_LONG_S = 7 * 24 * 3600;
/** A first batch slower than this is estimate enough (the next may be minutes away). */
const SLOW_FIRST_BATCH_S = 30;
/** Batches timed after the first (which pays for set-up and compilation) before estimating. */
const TIMED_BATCHES = 2;

export interface EtaFields {
  total_steps: number;
  epoch_s?: number;
  eta_s?: number;
}

export class Eta {
  private readonly start: number;
  private first: { at: number; iter: number } | null = null;
  /** Evaluation seconds between the first and the last batch (timed apart from the batches). */
  private evalSince = 0;
  /** Evaluation seconds since the last batch. */
  private evalPending = 0;
  private lastEval = 0;
  private last = { at: 0, iter: 0 };
  private announced = false;

  constructor(
    private readonly o: {
      batchesPerEpoch: number;
      /** `iter` at which the run ends (epochs or max_steps). */
      endIter: number;
      totalSteps: number;
      evalEvery: number;
      backend?: BackendInfo;
      logger: Log;
      /** performance.now() at the session's start (tests give their own clock). */
      start?: number;
    },
  ) {
    this.start = o.start ?? performance.now();
  }

  /** Seconds per batch (mirror or engaged), once known: the batches after the first, evaluations left out. */
  private pace(): number | null {
    if (!this.first) return null;
    const batches = this.last.iter - this.first.iter;
    if (batches >= TIMED_BATCHES) return ((this.last.at - this.first.at) / 1000 - this.evalSince) / batches;
    const firstS = (this.first.at - this.start) / 1000;
    return firstS >= SLOW_FIRST_BATCH_S ? firstS : null;
  }

  batchDone(iter: number, now = performance.now()): void {
    this.last = { at: now, iter };
    if (this.first) this.evalSince += this.evalPending;
    else this.first = { at: now, iter };
    this.evalPending = 0;
    if (!this.announced && this.pace() !== null) this.announce(iter);
  }

  evalTook(seconds: number): void {
    this.lastEval = seconds;
    this.evalPending += seconds;
  }

  fields(iter: number): EtaFields {
    const pace = this.pace();
    if (pace === null) return { total_steps: this.o.totalSteps };
    const { batchesPerEpoch: bpe, endIter, evalEvery } = this.o;
    const evalsLeft = Math.max(1, Math.ceil((endIter - iter) / bpe / Math.max(1, evalEvery)));
    const evalShare = this.lastEval / Math.max(1, evalEvery);
    return {
      total_steps: this.o.totalSteps,
      epoch_s: round(pace * bpe + evalShare),
      eta_s: round(Math.max(0, endIter - iter) * pace + (iter < endIter ? evalsLeft * this.lastEval : 0)),
    };
  }

  private announce(iter: number): void {
    this.announced = true;
    const f = this.fields(iter);
    const eta = f.eta_s ?? 0;
    const msg = `estimate: ${formatDuration(f.epoch_s ?? 0)} per epoch, ${f.total_steps} steps, ${formatDuration(eta)} to finish`;
    this.o.logger.info(f, msg);
    if (eta <= TOO_LONG_S) return;
    const b = this.o.backend;
    const threads = b?.name === 'wasm' ? ` with ${b.threads} thread${b.threads === 1 ? '' : 's'}` : '';
    const faster = fasterOptions(b);
    this.o.logger.warn(
      { ...f, faster },
      `this run would take about ${formatDuration(eta)}${b ? ` on ${b.name}${threads}` : ''}, ` +
        `far beyond a reasonable run; faster: ${faster.join('; ')}`,
    );
  }
}

/** What would make a run faster than `b`, best first. */
export function fasterOptions(b: BackendInfo | undefined, cores = availableParallelism()): string[] {
  const out: string[] = [];
  if (b?.name === 'cpu') out.push('backend.name: wasm (the embedded SIMD backend)');
  if (b?.name === 'wasm' && b.threads < cores)
    out.push(`backend.threads: ${cores} (this machine has ${cores} cores)`);
  if (b?.name !== 'webgpu' && b?.name !== 'tensorflow-gpu')
    out.push('backend.name: webgpu on a machine with a GPU (docs/gpu.md)');
  out.push('a smaller run: train.epochs, train.max_steps, data.image_size, model.width, or less data');
  return out;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** `45 s`, `12 min`, `5.2 h`, `12 days`, `5.3 months`, `2.1 years`. */
export function formatDuration(s: number): string {
  const day = 86400;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 2 * day) return `${(s / 3600).toFixed(1)} h`;
  if (s < 60 * day) return `${Math.round(s / day)} days`;
  if (s < 730 * day) return `${(s / (30.44 * day)).toFixed(1)} months`;
  return `${(s / (365.25 * day)).toFixed(1)} years`;
}
