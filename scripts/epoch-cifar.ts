/**
 * One CIFAR-10 epoch of ResNet-20 with Kolen-Pollack on any backend (benchmark, not a
 * test): the function bench-gpu's epoch section runs (scripts/bench-gpu/epoch.ts: the
 * data loader and trainer `wtrain run` uses), so a webgpu epoch can be set beside cpu or
 * wasm ones on the same data; `--seed` changes the data order, for the spread.
 *
 *   node --import tsx scripts/epoch-cifar.ts --dir DIR [--backend wasm] [--seed 0] [--batch 128]
 */
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import { backendConfigSchema } from '../src/backend/config.js';
import { initBackend } from '../src/backend/index.js';
import { cifarEpoch } from './bench-gpu/epoch.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    seed: { type: 'string', default: '0' },
    batch: { type: 'string', default: '128' },
  },
});
if (!args.dir) {
  console.error('epoch-cifar: --dir DIR (the CIFAR-10 binary version) is needed');
  process.exit(2);
}
const choice = await initBackend(backendConfigSchema.parse({ name: args.backend }));
console.error(`epoch-cifar: backend ${choice.name} (${choice.reason})`);
const batch = Number(args.batch);
const net = { arch: 'resnet20' as const, width: 1, batch, size: 32, label: `resnet20 b${batch} 32px` };
const r = await cifarEpoch(args.dir, net, null, Number(args.seed));
console.log(JSON.stringify({ backend: choice.name, seed: Number(args.seed), ...r }));
process.exit(0);
