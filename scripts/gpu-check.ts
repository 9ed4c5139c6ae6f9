/** Correctness of the webgpu training step on this machine's GPU: see scripts/bench-gpu/check.ts. */
import { gpuCheck } from './bench-gpu/check.js';

gpuCheck(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`gpu-check: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
