import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'wtrain.js');

export interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `wtrain args...` (stdout/stderr collected, no TTY); `extra`: e.g. another uid. */
export function start(
  args: string[],
  cwd = ROOT,
  extra: SpawnOptions = {},
): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, ...extra, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Done>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export function wtrain(args: string[], cwd = ROOT, extra: SpawnOptions = {}): Promise<Done> {
  return start(args, cwd, extra).done;
}

/** Why the real engine can't be used (a module is missing), or null when it can. */
export function engineMissing(): string | null {
  for (const f of ['src/train/trainer.ts', 'src/data/index.ts', 'src/backend/index.ts']) {
    if (!existsSync(path.join(ROOT, f))) return `the real engine is not available yet: ${f} is missing`;
  }
  return null;
}

/** Run the CLI in this process (much faster than a child), capturing what it prints. */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  // The CLI writes strings. node:test's child process reports each finished test to the
  // parent as Buffers on stdout, possibly while main() runs: those must pass through, or
  // the parent never hears of the test (it silently vanished from the counts before).
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (ow as (...a: unknown[]) => boolean)(chunk, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (ew as (...a: unknown[]) => boolean)(chunk, ...rest);
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'wtrain', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}
