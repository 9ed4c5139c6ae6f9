/**
 * A wasm compute thread. It holds no tfjs: only conv2d.wat (the same build as the main
 * thread's: with or without fused multiply-adds), instantiated on a shared
 * memory that the main thread fills with a part's inputs and a list of kernel calls
 * (see pool.ts for the layout). It blocks in Atomics.wait between jobs, so it never
 * needs its event loop.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import type { ConvExports } from '../simd/index.js';
import { convModule } from '../simd/modules.js';
import { CTRL, FNS } from './protocol.js';

const { memory, port } = workerData as { memory: WebAssembly.Memory; port: MessagePort };
const ctrl = new Int32Array(memory.buffer, 0, CTRL.words);
const conv = new WebAssembly.Instance(convModule(true), { env: { memory } })
  .exports as unknown as ConvExports;
port.postMessage({ ready: true });

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.posted, seen);
  const seq = Atomics.load(ctrl, CTRL.posted);
  if (seq < 0) break;
  seen = seq;
  try {
    if (ctrl[CTRL.calls] < 0) Atomics.wait(ctrl, CTRL.idle, 0); // a test of the watchdog: never returns
    let at = CTRL.calls + 1;
    for (let i = 0; i < ctrl[CTRL.calls]; i++) {
      const [fn, argc] = [ctrl[at], ctrl[at + 1]];
      const args = Array.from(ctrl.subarray(at + 2, at + 2 + argc));
      (conv[FNS[fn]] as (...a: number[]) => void)(...args);
      at += 2 + argc;
    }
    Atomics.store(ctrl, CTRL.failed, 0);
  } catch (err) {
    port.postMessage({ error: (err as Error).stack ?? String(err) });
    Atomics.store(ctrl, CTRL.failed, 1);
  }
  Atomics.store(ctrl, CTRL.done, seq);
  Atomics.notify(ctrl, CTRL.done);
}
port.close();
