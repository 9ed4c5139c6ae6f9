/** The PyTorch side: run scripts/bench-gpu-torch.py on the same nets and read its JSON. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyRule, NetConfig } from './options.js';

export interface TorchRow {
  net: string;
  rule: AnyRule;
  /** tf32: PyTorch's defaults (cuDNN convs in TF32 on Ampere+); fp32: TF32 off everywhere; amp: autocast float16 + GradScaler. */
  precision: 'tf32' | 'fp32' | 'amp';
  /** Median of steps each waited for. */
  medianMs: number;
  /** Mean of back-to-back steps, one synchronize at the end (as training runs); rows before issue 16 lack it. */
  pipelinedMs?: number;
  imgPerSec: number;
  /** torch.cuda.max_memory_allocated / max_memory_reserved over the row, MiB (cuda only). */
  peakAllocatedMb?: number;
  peakReservedMb?: number;
  mirrorBatch?: number;
}

export interface TorchResult {
  ok: boolean;
  reason?: string;
  device?: string;
  torch?: string;
  rows: TorchRow[];
  /** Rows that failed (out of memory, ...), one line each. */
  errors?: string[];
}

/** Results of several runs of the script, as one (the first run's device and version). */
export function mergeTorch(a: TorchResult, b: TorchResult): TorchResult {
  if (!a.ok) return { ...b, rows: [...a.rows, ...b.rows] };
  return { ...a, rows: [...a.rows, ...b.rows], errors: [...(a.errors ?? []), ...(b.errors ?? [])] };
}

/** bench-gpu-torch.py next to this bundle (bundle/), or in scripts/ of a checkout. */
export function findTorchScript(explicit: string | null): string | null {
  if (explicit) return explicit;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'bench-gpu-torch.py'), path.join(here, '..', 'bench-gpu-torch.py')];
  return candidates.find((p) => existsSync(p)) ?? null;
}

export function runTorch(
  python: string,
  script: string | null,
  nets: NetConfig[],
  rules: AnyRule[],
  o: {
    steps: number;
    warmup: number;
    device: string;
    outFile: string;
    timeoutS: number;
    /** Default: tf32,fp32 (the script's default). */
    precisions?: string[];
  },
): TorchResult {
  if (!script) return { ok: false, reason: 'bench-gpu-torch.py not found', rows: [] };
  const args = [
    script,
    '--json',
    o.outFile,
    '--steps',
    String(o.steps),
    '--warmup',
    String(o.warmup),
    '--rules',
    rules.join(','),
    '--device',
    o.device,
    '--nets',
    JSON.stringify(nets),
    ...(o.precisions ? ['--precisions', o.precisions.join(',')] : []),
  ];
  const res = spawnSync(python, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: o.timeoutS * 1000,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  if (res.error) return { ok: false, reason: `${python}: ${res.error.message}`, rows: [] };
  if (!existsSync(o.outFile))
    return { ok: false, reason: `${python} exited with ${res.status} and wrote no results`, rows: [] };
  const out = JSON.parse(readFileSync(o.outFile, 'utf8')) as TorchResult;
  // Killed at the time limit: the rows written so far stand.
  if (res.signal) out.errors = [...(out.errors ?? []), `stopped by ${res.signal} after ${o.timeoutS} s`];
  return out;
}
