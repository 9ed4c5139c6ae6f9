import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Trainer, TrainerState } from '../train/types.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';
import {
  type CheckpointContent,
  encodeCheckpoint,
  type RawTensor,
  readCheckpointFile,
} from './checkpoint-format.js';

const FILE_RE = /^ckpt-(\d+)\.wtc$/;
export const BEST_FILE = 'best.wtc';

/** Reads with `await data()`: `dataSync()` fails on the webgpu backend in Node. */
export async function tensorToRaw(t: tf.Tensor): Promise<RawTensor> {
  const values = await t.data();
  const data = t.dtype === 'int32' ? Int32Array.from(values as Int32Array) : Float32Array.from(values);
  return { dtype: t.dtype === 'int32' ? 'int32' : 'float32', shape: [...t.shape], data };
}

export function rawToTensor(r: RawTensor): tf.Tensor {
  return tf.tensor(r.data, r.shape, r.dtype);
}

/** Trainer state → raw arrays (disposes the state's tensor clones). */
export async function stateToRaw(
  state: TrainerState,
): Promise<Pick<CheckpointContent<unknown>, 'tensors' | 'scalars'>> {
  const tensors: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(state.tensors)) {
    tensors[name] = await tensorToRaw(t);
    t.dispose();
  }
  return { tensors, scalars: { ...state.scalars } };
}

/** Load a checkpoint's tensors and scalars into the trainer. */
export function restoreTrainer(
  trainer: Trainer,
  c: Pick<CheckpointContent<unknown>, 'tensors' | 'scalars'>,
): void {
  const state = rawToState(c);
  try {
    trainer.setState(state);
  } finally {
    tf.dispose(Object.values(state.tensors));
  }
}

/** Raw arrays → trainer state (the caller disposes the tensors after `setState`). */
function rawToState(c: Pick<CheckpointContent<unknown>, 'tensors' | 'scalars'>): TrainerState {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, r] of Object.entries(c.tensors)) tensors[name] = rawToTensor(r);
  return { tensors, scalars: { ...c.scalars } };
}

/** The `ckpt-<iteration>.wtc` files in `dir`, oldest first (none when it does not exist). */
export function listCheckpoints(dir: string): { file: string; iter: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => ({ f, m: FILE_RE.exec(f) }))
    .filter((x) => x.m)
    .map((x) => ({ file: path.join(dir, x.f), iter: Number(x.m![1]) }))
    .sort((a, b) => a.iter - b.iter);
}

/**
 * The `checkpoints/` folder: `ckpt-<iteration>.wtc` files (iteration = batches done,
 * mirror and engaged) written atomically; the newest `keep` are kept, plus `best.wtc`
 * (a hard link to, or copy of, the checkpoint with the lowest val top-1 error).
 */
export class CheckpointStore {
  constructor(
    readonly dir: string,
    readonly keep = 3,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  list(): { file: string; iter: number }[] {
    return listCheckpoints(this.dir);
  }

  latest(): string | undefined {
    return this.list().at(-1)?.file;
  }

  best(): string | undefined {
    const f = path.join(this.dir, BEST_FILE);
    return existsSync(f) ? f : undefined;
  }

  save<R>(content: CheckpointContent<R>, iter: number, isBest: boolean): string {
    const file = path.join(this.dir, `ckpt-${String(iter).padStart(9, '0')}.wtc`);
    writeFileAtomic(file, encodeCheckpoint(content));
    if (isBest) this.markBest(file);
    this.prune();
    return file;
  }

  private markBest(file: string): void {
    const tmp = path.join(this.dir, `.${BEST_FILE}.tmp`);
    rmSync(tmp, { force: true });
    try {
      linkSync(file, tmp);
    } catch {
      copyFileSync(file, tmp);
    }
    renameSync(tmp, path.join(this.dir, BEST_FILE));
    fsyncDir(this.dir);
  }

  private prune(): void {
    const all = this.list();
    for (const { file } of all.slice(0, Math.max(0, all.length - this.keep))) rmSync(file, { force: true });
  }

  load<R>(file: string): CheckpointContent<R> {
    return readCheckpointFile<R>(file);
  }
}
