/**
 * One check of everything `backend: webgpu` needs on a machine, each item OK or MISSING
 * with the fix: the NVIDIA driver (informational: lavapipe needs none), the Vulkan loader,
 * the glvnd libraries NVIDIA's Vulkan driver loads, a Vulkan driver (ICD) whose library is
 * there, Dawn, and finally an adapter and the device limits it grants. `scripts/bench-gpu.sh
 * doctor` (and the start of `check` and `run`) prints it; never throws.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { describeBufferLimits } from './device_errors.js';
import { findLibrary, ICD_DIRS, listJson } from './diagnose.js';
import { initWebgpuBackend } from './init.js';

export interface CheckItem {
  what: string;
  ok: boolean;
  /** What was found, or what is missing and how to get it. */
  detail: string;
  /** A missing required item fails the check; an optional one only informs. */
  required: boolean;
}

const APT = 'apt-get install';
const GLVND: Array<[string, string]> = [
  ['libGLdispatch.so.0', 'libglvnd0'],
  ['libGLX.so.0', 'libglx0'],
  ['libEGL.so.1', 'libegl1'],
  ['libOpenGL.so.0', 'libopengl0'],
];

function nvidiaDriver(): CheckItem {
  const r = spawnSync(
    'nvidia-smi',
    ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'],
    {
      encoding: 'utf8',
    },
  );
  const ok = r.status === 0 && r.stdout.trim().length > 0;
  return {
    what: 'NVIDIA driver (nvidia-smi)',
    ok,
    detail: ok
      ? r.stdout.trim().split('\n')[0]
      : 'not found: no NVIDIA GPU or driver here (fine for lavapipe)',
    required: false,
  };
}

/** The ICD files the Vulkan loader would read: VK_DRIVER_FILES / VK_ICD_FILENAMES, else the icd.d folders. */
function icdFiles(): string[] {
  const env = process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES;
  if (env) return env.split(delimiter).filter(Boolean);
  return ICD_DIRS.flatMap(listJson);
}

/** Each ICD file and whether its driver library resolves. */
function icds(): CheckItem {
  const files = icdFiles();
  const usable: string[] = [];
  const broken: string[] = [];
  for (const file of files) {
    let lib = '';
    try {
      lib = String(JSON.parse(readFileSync(file, 'utf8'))?.ICD?.library_path ?? '');
    } catch {
      broken.push(`${file} (${existsSync(file) ? 'unreadable' : 'missing'})`);
      continue;
    }
    const found = lib.includes('/') ? existsSync(lib) : findLibrary(lib) !== null;
    (found ? usable : broken).push(
      found ? `${file} → ${lib}` : `${file} (its library ${lib} is not installed)`,
    );
  }
  const fix =
    'install the NVIDIA driver with its Vulkan ICD (nvidia_icd.json) and point VK_DRIVER_FILES at it ' +
    '(source .gpu/env.sh does both on the GPU node); without a GPU: scripts/ci/install-lavapipe.sh';
  return {
    what: 'Vulkan driver (ICD)',
    ok: usable.length > 0,
    detail: [
      ...usable,
      ...broken.map((b) => `not usable: ${b}`),
      ...(usable.length === 0
        ? [files.length === 0 ? `no ICD files in ${ICD_DIRS.join(', ')}; ${fix}` : fix]
        : []),
    ].join('; '),
    required: true,
  };
}

function library(what: string, name: string, pkg: string, required: boolean): CheckItem {
  const path = findLibrary(name);
  return { what, ok: path !== null, detail: path ?? `${name} not found: ${APT} ${pkg}`, required };
}

/** The whole check, in the order things are needed. */
export async function checkWebgpuSetup(): Promise<CheckItem[]> {
  const items: CheckItem[] = [nvidiaDriver()];
  items.push(library('Vulkan loader', 'libvulkan.so.1', 'libvulkan1 (source .gpu/env.sh unpacks it)', true));
  const nvidia = icdFiles().some((f) => /nvidia/i.test(f));
  const glvnd = GLVND.filter(([name]) => findLibrary(name) === null);
  items.push({
    what: 'glvnd libraries (NVIDIA’s Vulkan driver loads them)',
    ok: glvnd.length === 0,
    detail:
      glvnd.length === 0
        ? GLVND.map(([name]) => name).join(', ')
        : `missing ${glvnd.map(([n]) => n).join(', ')}: ${APT} ${glvnd.map(([, p]) => p).join(' ')} libgl1 libgles2`,
    required: nvidia,
  });
  items.push(icds());
  const init = await initWebgpuBackend();
  items.push({
    what: 'Dawn and a WebGPU adapter',
    ok: init.ok,
    detail: init.ok
      ? `${init.adapter}${init.software ? ' (software: fine for tests, slow for training)' : ''}; ${describeBufferLimits(init.limits)}`
      : init.reason.split('\n')[0],
    required: true,
  });
  return items;
}

/** The check as text, one line per item, and whether every required item is there. */
export function formatCheck(items: CheckItem[]): { text: string; ok: boolean } {
  const lines = items.map(
    (i) => `${i.ok ? 'ok     ' : i.required ? 'MISSING' : 'absent '}  ${i.what}: ${i.detail}`,
  );
  const ok = items.every((i) => i.ok || !i.required);
  const missing = items.filter((i) => !i.ok && i.required).map((i) => i.what);
  lines.push(ok ? 'webgpu: ready' : `webgpu: not ready, missing: ${missing.join('; ')}`);
  return { text: lines.join('\n'), ok };
}
