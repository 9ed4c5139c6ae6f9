/**
 * A wasm compute thread: its own tfjs wasm backend, driven by the main thread through
 * shared memory (see pool.ts). It blocks in Atomics.wait between jobs, so it never
 * needs its event loop; jobs arrive as messages read synchronously off the port.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { copyOut, tensorFrom } from '../heap.js';
import { registerWasmOps } from '../index.js';
import { CTRL, JOBS, type JobMessage } from './jobs.js';

const { ctrl: ctrlBuffer, port } = workerData as { ctrl: SharedArrayBuffer; port: MessagePort };
const ctrl = new Int32Array(ctrlBuffer);

registerWasmOps();
await tf.setBackend('wasm');
await tf.ready();
port.postMessage({ ready: true });

/** The job message posted with sequence number `seq` (postMessage enqueues before the notify). */
function nextMessage(): JobMessage {
  for (let tries = 0; tries < 1000; tries++) {
    const m = receiveMessageOnPort(port);
    if (m) return m.message as JobMessage;
    Atomics.wait(ctrl, CTRL.words - 1, 0, 1);
  }
  throw new Error('wasm thread: job signalled but no message arrived');
}

let buffer: SharedArrayBuffer | null = null;
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.posted, seen);
  const seq = Atomics.load(ctrl, CTRL.posted);
  if (seq < 0) break;
  seen = seq;
  try {
    const msg = nextMessage();
    if (msg.buffer) buffer = msg.buffer;
    if (!buffer) throw new Error('wasm thread: no shared buffer');
    if (msg.job === 'stall') Atomics.wait(ctrl, CTRL.words - 1, 0); // tests of the watchdog: never returns
    const shared = buffer;
    tf.tidy(() => {
      const inputs = msg.inputs.map((p) => tensorFrom(sizedView(shared, p), p.shape));
      const out = JOBS[msg.job as keyof typeof JOBS](inputs, msg.attrs);
      copyOut(out, sizedView(shared, msg.out));
    });
    Atomics.store(ctrl, CTRL.failed, 0);
  } catch (err) {
    port.postMessage({ error: (err as Error).stack ?? String(err) });
    Atomics.store(ctrl, CTRL.failed, 1);
  }
  Atomics.store(ctrl, CTRL.done, seq);
  Atomics.notify(ctrl, CTRL.done);
}
port.close();

function sizedView(buf: SharedArrayBuffer, p: { at: number; shape: number[] }): Float32Array {
  return new Float32Array(
    buf,
    p.at * 4,
    p.shape.reduce((a, b) => a * b, 1),
  );
}
