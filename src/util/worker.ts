/**
 * Start a worker thread from a module next to the caller. Under tsx (running .ts
 * sources) workers don't inherit its loader, so they boot through tsx's API first;
 * from compiled .js, or from the bundle (where every worker is bundled next to the
 * CLI), it is the .js file itself.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function spawnWorker(callerUrl: string, stem: string, options: WorkerOptions = {}): Worker {
  const ts = callerUrl.endsWith('.ts');
  const url = new URL(`./${stem}.${ts ? 'ts' : 'js'}`, callerUrl);
  if (!ts) return new Worker(url, options);
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${api}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
