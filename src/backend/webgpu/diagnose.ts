/**
 * Why Dawn found no WebGPU adapter: which Vulkan loader and ICD files were looked
 * for, and how to get one. Only reads the file system; never throws.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const ICD_DIRS = [
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
];

export const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib',
];

export function listJson(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function envFiles(name: string): string | null {
  const value = process.env[name];
  if (!value) return null;
  const files = value.split(delimiter).filter(Boolean);
  const shown = files.map((f) => `${f}${existsSync(f) ? '' : ' (missing)'}`);
  return `${name}=${shown.join(delimiter)}`;
}

/** The Vulkan API version an ICD file declares ('' if unreadable). */
function icdApiVersion(file: string): string {
  try {
    return String(JSON.parse(readFileSync(file, 'utf8'))?.ICD?.api_version ?? '');
  } catch {
    return '';
  }
}

/** Where the dynamic loader would find shared library `name` (LD_LIBRARY_PATH, the usual dirs, the ld cache), or null. */
export function findLibrary(name: string): string | null {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS];
  for (const dir of dirs) {
    const lib = join(dir, name);
    if (existsSync(lib)) return lib;
  }
  const cached = ldCache().find((line) => line.startsWith(`${name} `));
  return cached ? cached.slice(cached.lastIndexOf('=> ') + 3) : null;
}

let ldLines: string[] | null = null;

/** `ldconfig -p`'s lines, trimmed (empty where ldconfig is missing). */
function ldCache(): string[] {
  if (ldLines) return ldLines;
  const r = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const alt = r.status === 0 ? r : spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  ldLines = alt.status === 0 ? alt.stdout.split('\n').map((l) => l.trim()) : [];
  return ldLines;
}

export const findVulkanLoader = (): string | null => findLibrary('libvulkan.so.1');

/** A multi-line explanation of the Vulkan setup Dawn saw, with the fix. */
export function describeVulkanSetup(): string {
  const lines: string[] = [];
  const loader = findVulkanLoader();
  lines.push(
    loader
      ? `Vulkan loader: ${loader}`
      : 'Vulkan loader libvulkan.so.1: not found (install the Debian package libvulkan1)',
  );
  const fromEnv = [envFiles('VK_DRIVER_FILES'), envFiles('VK_ICD_FILENAMES')].filter(Boolean);
  if (fromEnv.length > 0) lines.push(`ICD files from the environment: ${fromEnv.join('; ')}`);
  else lines.push('VK_DRIVER_FILES / VK_ICD_FILENAMES: unset (the loader searches the icd.d directories)');
  const icds = ICD_DIRS.flatMap(listJson);
  lines.push(
    icds.length > 0
      ? `ICD files in ${ICD_DIRS.join(', ')}: ${icds.join(', ')}`
      : `no ICD files in ${ICD_DIRS.join(', ')}`,
  );
  const lavapipe = icds.find((f) => /lvp_icd/.test(f));
  if (lavapipe) {
    const version = icdApiVersion(lavapipe);
    lines.push(
      version === '' || version.startsWith('1.3')
        ? `lavapipe ${version} is too old for Dawn (Debian 12's Mesa 22): install Mesa 25 from bookworm-backports`
        : `lavapipe (Vulkan ${version}) is installed; if it was not used, check VK_DRIVER_FILES / VK_ICD_FILENAMES`,
    );
  }
  lines.push(
    'Fix: on an NVIDIA machine install the NVIDIA driver with its Vulkan ICD (nvidia_icd.json) and point ' +
      'VK_DRIVER_FILES at it (source .gpu/env.sh does this, see docs/gpu.md); on a CPU-only Debian 12 ' +
      'machine run scripts/ci/install-lavapipe.sh (mesa-vulkan-drivers from bookworm-backports, libvulkan1, ' +
      'glvnd libraries) for the slow software adapter lavapipe.',
  );
  return lines.join('\n');
}
