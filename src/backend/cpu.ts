/**
 * tfjs's cpu backend without its banner. On its first tensor in a process it prints
 * "Hi, looks like you are running TensorFlow.js in Node.js ... install our node backend"
 * to the console: noise in a run's output (and once per file through `npm test`), and
 * advice the backend choice already gives (src/backend/index.ts, docs/engine.md).
 * Import this module instead of '@tensorflow/tfjs-backend-cpu'.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

type CpuBackend = tf.KernelBackend & { firstUse?: boolean };

const registry = (tf.engine() as unknown as { registry: Record<string, CpuBackend> }).registry;
const factory = tf.findBackendFactory('cpu');
if (registry.cpu) registry.cpu.firstUse = false;
else if (factory) {
  tf.removeBackend('cpu');
  tf.registerBackend(
    'cpu',
    () => {
      const backend = factory() as CpuBackend;
      backend.firstUse = false;
      return backend;
    },
    1, // the priority tfjs-backend-cpu registers it with
  );
}
