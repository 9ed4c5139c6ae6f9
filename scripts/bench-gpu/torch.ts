/** The PyTorch side: run scripts/bench-gpu-torch.py on the same nets and read its JSON. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetConfig, Rule } from './options.js';

export interface TorchRow {
  net: string;
  rule: Rule;
  /** tf32: PyTorch's defaults (cuDNN convs in TF32 on Ampere+); fp32: TF32 off everywhere. */
  precision: 'tf32' | 'fp32';
  medianMs: number;
  imgPerSec: number;
}

export interface TorchResult {
  ok: boolean;
  reason?: string;
  device?: string;
  torch?: string;
  rows: TorchRow[];
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
  rules: Rule[],
  o: { steps: number; warmup: number; device: string; outFile: string; timeoutS: number },
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
  ];
  const res = spawnSync(python, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: o.timeoutS * 1000,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  if (res.error) return { ok: false, reason: `${python}: ${res.error.message}`, rows: [] };
  if (!existsSync(o.outFile))
    return { ok: false, reason: `${python} exited with ${res.status} and wrote no results`, rows: [] };
  return JSON.parse(readFileSync(o.outFile, 'utf8')) as TorchResult;
}
