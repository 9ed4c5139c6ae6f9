/**
 * Engine benchmark: median training-step time of each learning rule on the wasm
 * backend, and PyTorch CPU on the same networks in the same run (Debian's
 * python3-torch under /usr/bin/python3, through scripts/bench-gpu-torch.py --device cpu;
 * skipped with a message when absent).
 *
 *   scripts/bench-engine [--steps 5] [--rules bp,fa,ss,kp,wm] [--nets resnet20:128,resnet18:64]
 *                        [--backend wasm] [--threads 1,2]
 *
 * Each thread count (wasm only) runs every net and rule; rule overheads are reported
 * against BP at the same thread count. A fixed probe (scripts/speed-probe.ts) timed
 * before every round of steps and around PyTorch shows how the machine's speed drifted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { pauseWasmThreads } from '../src/backend/wasm/threads/index.js';
import { syntheticBatch, syntheticInfo } from '../src/data/synthetic.js';
import { modelConfigSchema } from '../src/models/config.js';
import { ruleConfigSchema } from '../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../src/train/config.js';
import { NetworkTrainer } from '../src/train/trainer.js';
import { probeRange, speedProbe } from './speed-probe.js';
import { median } from './stats.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '5' },
    rules: { type: 'string', default: 'bp,fa,ss,kp,wm' },
    nets: { type: 'string', default: 'resnet20:128,resnet18:64' },
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1,2' },
  },
});
const steps = Number(args.steps);
const hw = Number(args.size);

const threadCounts = args.backend === 'wasm' ? args.threads.split(',').map(Number) : [1];
const info = syntheticInfo(hw);

interface Row {
  net: string;
  batch: number;
  impl: string;
  ms: number;
}
const rows: Row[] = [];
/** The machine-speed probe (scripts/speed-probe.ts) before each round of wasm steps, and around PyTorch. */
const probes = { wasm: [] as number[], torch: [] as number[] };
const label = (threads: number) => `${args.backend}${threads > 1 ? ` ${threads} threads` : ''}`;
await initBackend({ name: args.backend as 'wasm', threads: Math.max(...threadCounts) });
for (const spec of args.nets.split(',')) {
  const [arch, b] = spec.split(':');
  const batchSize = Number(b);
  const batch = syntheticBatch(batchSize, hw, 1);
  // Every (thread count, rule) has its own engine and they take their steps in turn
  // (the workers stay up; one thread = the pool paused), so slow drift of the machine
  // or the process (heap growth, other load) hits every configuration alike.
  const configs = threadCounts.flatMap((threads) => args.rules.split(',').map((rule) => ({ threads, rule })));
  const engines = configs.map(
    ({ rule }) =>
      new NetworkTrainer(
        {
          model: modelConfigSchema.parse({ arch }),
          rule: ruleConfigSchema.parse({ name: rule }),
          optimizer: optimizerConfigSchema.parse({}),
          train: trainConfigSchema.parse({}),
        },
        info,
      ),
  );
  const times: number[][] = configs.map(() => []);
  for (let i = 0; i <= steps; i++) {
    probes.wasm.push(speedProbe());
    for (const [k, engine] of engines.entries()) {
      pauseWasmThreads(configs[k].threads === 1);
      const t = performance.now();
      engine.trainStep(batch, 0.01);
      await engine.lossIsFinite(); // waits for the device
      if (i > 0) times[k].push(performance.now() - t); // step 0 warms up (kernels, buffers)
    }
  }
  for (const [k, { threads, rule }] of configs.entries()) {
    engines[k].dispose();
    rows.push({ net: arch, batch: batchSize, impl: `${label(threads)} ${rule}`, ms: median(times[k]) });
    console.error(`${arch} b${batchSize} ${label(threads)} ${rule}: ${median(times[k]).toFixed(0)} ms`);
  }
  console.error(`tensors after disposing: ${tf.memory().numTensors}`);
}

// The PyTorch twin of wtrain's ResNets is shared with the GPU benchmark (--device cpu here).
const python = '/usr/bin/python3';
const torchScript = new URL('./bench-gpu-torch.py', import.meta.url).pathname;
const torchNets = JSON.stringify(
  args.nets.split(',').map((spec) => {
    const [arch, b] = spec.split(':');
    return { label: `${arch}:${b}`, arch, width: 1, batch: Number(b), size: hw };
  }),
);
let torchNote = '';
if (existsSync(python)) {
  const jsonFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-engine-')), 'torch.json');
  for (const threads of [1, 2]) {
    probes.torch.push(speedProbe());
    try {
      execFileSync(
        python,
        [
          torchScript,
          '--json',
          jsonFile,
          '--nets',
          torchNets,
          '--rules',
          'bp',
          '--precisions',
          'fp32',
          '--device',
          'cpu',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: String(threads) } },
      );
      const res = JSON.parse(readFileSync(jsonFile, 'utf8')) as {
        ok: boolean;
        reason?: string;
        rows: Array<{ net: string; medianMs: number }>;
      };
      if (!res.ok) throw new Error(res.reason ?? 'failed');
      for (const r of res.rows) {
        const [net, batch] = r.net.split(':');
        const impl = `pytorch bp (${threads} thread${threads > 1 ? 's' : ''})`;
        rows.push({ net, batch: Number(batch), impl, ms: r.medianMs });
      }
    } catch (err) {
      torchNote = `PyTorch skipped: ${(err as Error).message.split('\n')[0]} (apt-get install -y python3-torch)`;
    }
  }
  probes.torch.push(speedProbe());
} else {
  torchNote = 'PyTorch skipped: /usr/bin/python3 not found';
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `\nMachine: ${cpu}, ${os.cpus().length} cores; tfjs ${tf.version_core}; ${args.backend} threads ${threadCounts.join(', ')}; ${hw}x${hw} inputs; median of ${steps} steps\n`,
);
console.log('| net | batch | implementation | ms/step | img/s | × PyTorch (1 thread) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const ref = rows.find((q) => q.net === r.net && q.batch === r.batch && q.impl === 'pytorch bp (1 thread)');
  const ratio = ref ? (r.ms / ref.ms).toFixed(2) : '—';
  console.log(
    `| ${r.net} | ${r.batch} | ${r.impl} | ${r.ms.toFixed(0)} | ${((r.batch * 1000) / r.ms).toFixed(0)} | ${ratio} |`,
  );
}
console.log('\nRule overhead vs BP (same net, same thread count, same run):');
for (const threads of threadCounts) {
  const base = (net: string) => rows.find((r) => r.net === net && r.impl === `${label(threads)} bp`);
  const prefix = `${label(threads)} `;
  const ofThreads = (q: Row) => q.impl.startsWith(prefix) && !q.impl.slice(prefix.length).includes(' ');
  for (const r of rows.filter((q) => ofThreads(q) && !q.impl.endsWith(' bp'))) {
    const b = base(r.net);
    if (b) console.log(`  ${r.net} ${r.impl}: ${(r.ms / b.ms).toFixed(2)}x`);
  }
}
console.log(
  `\nMachine speed probe (a fixed SIMD convolution, lower is faster): around the wasm steps ${probeRange(probes.wasm)}, around PyTorch ${probeRange(probes.torch)}`,
);
if (torchNote) console.log(`\n${torchNote}`);
