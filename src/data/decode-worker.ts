/**
 * Entry of a decode thread (worker_threads). Receives one BatchJob at a time from
 * ./executor.ts, runs ./transforms.ts' buildBatch and transfers the pixels back.
 */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from './errors.js';
import type { WireJob, WireReply } from './executor.js';
import { buildBatch, closeFiles, configureSharp } from './transforms.js';

/** Samples decoded concurrently inside one worker: the next decode overlaps this one's JS resampling. */
const IN_FLIGHT = 2;

configureSharp();
const port = parentPort!;

port.on('message', async (msg: WireJob | 'close') => {
  if (msg === 'close') {
    closeFiles();
    port.close();
    return;
  }
  const data = new Uint8Array(msg.data);
  const samples = msg.samples.map(({ packed, ...s }) =>
    packed ? { ...s, bytes: data.subarray(packed[0], packed[0] + packed[1]) } : s,
  );
  let reply: WireReply;
  try {
    const out = await buildBatch({ spec: msg.spec, seed: msg.seed, samples }, IN_FLIGHT);
    reply = { id: msg.id, ok: true, out };
    port.postMessage(reply, [out.x.buffer as ArrayBuffer, out.y.buffer as ArrayBuffer]);
  } catch (err) {
    reply = { id: msg.id, ok: false, error: errorMessage(err) };
    port.postMessage(reply);
  }
});
port.postMessage('ready');
