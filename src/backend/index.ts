/**
 * Backend selection. `auto` picks tensorflow-gpu > tensorflow > webgpu (hardware
 * adapter only) > wasm. tfjs-node(-gpu) are optional: loaded only if installed.
 * Returns which backend runs and why, for the run's log and meta.json.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import './cpu.js';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendConfig } from './config.js';
import { registerWasmOps } from './wasm/index.js';
import { startWasmThreads, stopWasmThreads } from './wasm/threads/index.js';
import { webgpuFinish, webgpuThrottle } from './webgpu/sync.js';

export interface BackendChoice {
  name: string;
  reason: string;
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

async function tryImport(pkg: string): Promise<string | null> {
  try {
    await import(pkg);
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

async function use(name: string): Promise<boolean> {
  const ok = await tf.setBackend(name);
  if (ok) await tf.ready();
  return ok;
}

async function useWasm(cfg: BackendConfig, log?: Log): Promise<string> {
  registerWasmOps();
  stopWasmThreads();
  if (!(await use('wasm'))) throw new Error('the wasm backend failed to initialise');
  if (cfg.threads <= 1) return '1 thread';
  const cores = availableParallelism();
  if (cfg.threads > cores) log?.warn({ threads: cfg.threads, cores }, 'more wasm threads than cores');
  try {
    await startWasmThreads(cfg.threads, {
      onFallback: (reason) => log?.warn({ reason }, `wasm threads stopped: ${reason}`),
    });
    return `${cfg.threads} threads (convolutions split over the batch)`;
  } catch (err) {
    const reason = (err as Error).message;
    log?.warn({ reason }, `${reason}; running 1 thread`);
    return `1 thread (${reason})`;
  }
}

async function useTfNode(gpu: boolean): Promise<string | null> {
  const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const err = await tryImport(pkg);
  if (err) return `${pkg} not usable (${err})`;
  return (await use('tensorflow')) ? null : `${pkg} loaded but its backend failed to start`;
}

/** True when the WebGPU adapter is a software rasteriser (lavapipe/llvmpipe, SwiftShader). */
async function softwareAdapter(): Promise<boolean> {
  const gpu = (globalThis as any).navigator?.gpu;
  const adapter = await gpu?.requestAdapter?.();
  const info = adapter?.info ?? {};
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''} ${info.device ?? ''}`;
  return (
    Boolean(adapter?.isFallbackAdapter) || info.type === 'CPU' || /llvmpipe|lavapipe|swiftshader/i.test(text)
  );
}

async function useWebgpu(requireHardware: boolean): Promise<string | null> {
  let mod: typeof import('./webgpu/index.js');
  try {
    // Loaded only when wanted: it loads Dawn (the `webgpu` package).
    mod = await import('./webgpu/index.js');
  } catch (err) {
    return `webgpu support not available (${(err as Error).message.split('\n')[0]})`;
  }
  const res = await mod.initWebgpuBackend();
  if (!res.ok) return res.reason;
  if (requireHardware && (await softwareAdapter())) {
    return 'the only WebGPU adapter is a software rasteriser (slower than wasm)';
  }
  mod.registerWebgpuOps();
  return null;
}

export async function initBackend(cfg: BackendConfig, log?: Log): Promise<BackendChoice> {
  let choice: BackendChoice;
  switch (cfg.name) {
    case 'cpu':
      if (!(await use('cpu'))) throw new Error('the cpu backend failed to initialise');
      choice = { name: 'cpu', reason: 'requested in config (reference backend, slow)' };
      break;
    case 'wasm':
      choice = { name: 'wasm', reason: `requested in config, ${await useWasm(cfg, log)}` };
      break;
    case 'tensorflow':
    case 'tensorflow-gpu': {
      const err = await useTfNode(cfg.name === 'tensorflow-gpu');
      if (err) throw new Error(`backend ${cfg.name}: ${err}. Install it with npm, or choose backend: wasm`);
      choice = { name: 'tensorflow', reason: `requested in config (${cfg.name})` };
      break;
    }
    case 'webgpu': {
      const err = await useWebgpu(false);
      if (err) throw new Error(`backend webgpu: ${err}`);
      choice = { name: 'webgpu', reason: 'requested in config' };
      break;
    }
    default: {
      const why: string[] = [];
      for (const gpu of [true, false]) {
        const err = await useTfNode(gpu);
        if (!err)
          return report(
            { name: 'tensorflow', reason: `auto: ${gpu ? 'tfjs-node-gpu' : 'tfjs-node'} is installed` },
            log,
          );
        why.push(err);
      }
      const err = await useWebgpu(true);
      if (!err) return report({ name: 'webgpu', reason: 'auto: a hardware WebGPU adapter was found' }, log);
      why.push(err);
      const threads = await useWasm(cfg, log);
      choice = { name: 'wasm', reason: `auto: embedded default, ${threads}; ${why.join('; ')}` };
    }
  }
  return report(choice, log);
}

function report(choice: BackendChoice, log?: Log): BackendChoice {
  log?.info({ backend: choice.name, reason: choice.reason }, `backend: ${choice.name}`);
  return choice;
}

/**
 * Once per training step: bounds how far the host runs ahead of a GPU (webgpu queues
 * kernels without blocking, and each queued step pins its buffers). Immediate on
 * synchronous backends.
 */
export function settleDevice(): Promise<void> {
  return webgpuThrottle();
}

/** All queued device work done, and no device error reported (webgpu); immediate elsewhere. */
export function verifyDevice(): Promise<void> {
  return webgpuFinish();
}
