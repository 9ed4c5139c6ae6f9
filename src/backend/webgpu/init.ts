/**
 * Start tfjs's webgpu backend on Dawn (npm `webgpu`, dawn.node) in Node.
 *
 * tfjs-backend-webgpu only registers itself when `navigator.gpu` exists at import
 * time, so the globals are installed first and the backend module is imported
 * afterwards; the backend factory is ours (it reuses the adapter checked here and
 * asks for timestamp queries, which tf.profile needs for kernel times).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BufferLimits, bufferLimits, watchDeviceErrors } from './device_errors.js';
import { describeVulkanSetup } from './diagnose.js';
import { installHostCaches } from './host_caches.js';
import type { WebGPUBackend } from './program.js';

interface Started {
  adapter: string;
  software: boolean;
  /** What the device obtained (the adapter's maximum, see requestDevice). */
  limits: BufferLimits;
}

export type WebgpuInitResult = ({ ok: true } & Started) | { ok: false; reason: string };

let started: Started | null = null;

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

/** Make `navigator.gpu` and the WebGPU constants (GPUBufferUsage, ...) global. */
function installGlobals(gpu: GPU, globals: object): void {
  Object.assign(globalThis, globals);
  const g = globalThis as { navigator?: object };
  if (g.navigator) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
}

function describeAdapter(adapter: GPUAdapter): { adapter: string; software: boolean } {
  const info = adapter.info;
  const text = [info?.vendor, info?.architecture, info?.device, info?.description]
    .filter((s) => s && s.length > 0)
    .join(' ');
  const software =
    Boolean((adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    /llvmpipe|lavapipe|swiftshader/i.test(text);
  return { adapter: text || 'unknown adapter', software };
}

/** The limits the backend's kernels need above Dawn's defaults (the fallback request). */
const NEEDED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  // The grouped SGD step binds 3 buffers per parameter (sgd_many.ts).
  'maxStorageBuffersPerShaderStage',
] as const;

/** Every numeric limit the adapter reports, at the adapter's value. */
function allAdapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return limits;
}

/**
 * A device with the adapter's maximum limits. Dawn's defaults are far lower than most
 * GPUs allow (one binding ≤ 128 MiB, one buffer ≤ 256 MiB), and a ResNet-50 activation
 * at 224 px and batch 256 is ~0.8 GB in one tensor. Every limit the adapter reports is
 * asked for; should this Dawn refuse one, the request falls back to NEEDED_LIMITS.
 */
async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  try {
    return await adapter.requestDevice({ requiredFeatures, requiredLimits: allAdapterLimits(adapter) });
  } catch {
    const limits = adapter.limits as unknown as Record<string, number>;
    const requiredLimits = Object.fromEntries(NEEDED_LIMITS.map((key) => [key, limits[key]]));
    return adapter.requestDevice({ requiredFeatures, requiredLimits });
  }
}

/**
 * Load Dawn, find an adapter and make `webgpu` the active tfjs backend. Never throws:
 * on failure the reason says what was missing (Vulkan loader, ICD files) and how to fix it.
 */
export async function initWebgpuBackend(): Promise<WebgpuInitResult> {
  if (started && tf.getBackend() === 'webgpu') return { ok: true, ...started };
  let gpu: GPU;
  try {
    const dawn = await import('webgpu');
    gpu = dawn.create([]);
    installGlobals(gpu, dawn.globals);
  } catch (err) {
    return {
      ok: false,
      reason:
        `cannot load Dawn (npm package webgpu, dist/${process.platform}-${process.arch}/dawn.node): ` +
        `${firstLine(err)}. It ships for linux-x64, linux-arm64, darwin and win32; with a bundle, keep ` +
        'bundle/node_modules/webgpu next to the .mjs file.',
    };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return {
      ok: false,
      reason: `requesting a WebGPU adapter failed: ${firstLine(err)}\n${describeVulkanSetup()}`,
    };
  }
  if (!adapter) {
    return { ok: false, reason: `Dawn found no WebGPU adapter (Vulkan).\n${describeVulkanSetup()}` };
  }
  const found = describeAdapter(adapter);
  try {
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    const chosen = adapter;
    tf.registerBackend('webgpu', async () => new WebGPUBackend(await requestDevice(chosen), chosen.info), 3);
    if (!(await tf.setBackend('webgpu'))) {
      return { ok: false, reason: `the webgpu backend failed to start on ${found.adapter}` };
    }
    await tf.ready();
    const backend = tf.backend() as unknown as WebGPUBackend;
    watchDeviceErrors(backend.device);
    installHostCaches(backend);
    started = { ...found, limits: bufferLimits(backend.device) };
  } catch (err) {
    return { ok: false, reason: `the webgpu backend failed to start on ${found.adapter}: ${firstLine(err)}` };
  }
  return { ok: true, ...started };
}
