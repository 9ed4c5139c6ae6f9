/**
 * Dawn reports a shader that fails to compile, a validation error or running out of GPU
 * memory on the device's 'uncapturederror' event (and prints it), then carries on: the
 * kernels concerned do nothing and every result after them is silently wrong. tfjs
 * installs no handler. `watchDeviceErrors` records the first such error (or the loss of
 * the device), and `throwIfDeviceError`, called at every step boundary
 * (`webgpuThrottle`, `webgpuFinish`), turns it into an exception that stops the run.
 * The record stays (a device that failed once is not trusted again) until
 * `clearDeviceError`, which only the benchmark uses to go on to its next section; a
 * lost device stays lost. Errors arrive asynchronously, so the boundary that throws may
 * be a step or two after the failing kernel; checkpoints wait for all work and check
 * first (`Trainer.verifyDevice`).
 */
const firstError = new WeakMap<GPUDevice, string>();
/** Lost devices: never cleared (nothing runs on them any more). */
const lost = new WeakMap<GPUDevice, string>();
const watched = new WeakSet<GPUDevice>();

export function watchDeviceErrors(device: GPUDevice): void {
  if (watched.has(device)) return;
  watched.add(device);
  const record = (what: string) => {
    if (!firstError.has(device)) firstError.set(device, what);
  };
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    record(`${error?.constructor?.name ?? 'GPUError'}: ${error?.message ?? String(event)}`);
  });
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') lost.set(device, `device lost (${info.reason}): ${info.message}`);
  });
}

/** The device's largest storage-buffer binding and largest buffer, in bytes: one tensor must fit both. */
export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export const bufferLimits = (device: GPUDevice): BufferLimits => ({
  maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
  maxBufferSize: device.limits.maxBufferSize,
});

const mib = (n: number, digits = 0) => `${(n / 2 ** 20).toFixed(digits)} MiB`;

/** The limits a device obtained (init.ts asks for the adapter's maximum), for messages. */
export const describeBufferLimits = (l: BufferLimits): string =>
  `this device's limits, the adapter's maximum: one binding ≤ ${mib(l.maxStorageBufferBindingSize)}, ` +
  `one buffer ≤ ${mib(l.maxBufferSize)}`;

/**
 * What a researcher can do about the errors that come from the run's sizes, or null.
 * With the device's `limits`, the hint names both limits it obtained.
 */
export function deviceErrorHint(error: string, limits?: BufferLimits): string | null {
  const fix = 'lower train.batch_size or the image size (activations grow with both)';
  const obtained = limits ? ` (${describeBufferLimits(limits)})` : '';
  const size = (x: string, y: string) => {
    const d = mib(Number(x)) === mib(Number(y)) ? 2 : 0;
    return [mib(Number(x), d), mib(Number(y), d)];
  };
  const binding = /Binding size \((\d+)\).*maximum storage buffer binding size \((\d+)\)/s.exec(error);
  if (binding) {
    const [got, max] = size(binding[1], binding[2]);
    return `one tensor (${got}) is larger than this GPU lets one kernel bind (${max})${obtained}: ${fix}`;
  }
  const buffer = /Buffer size \((\d+)\) exceeds the max buffer size limit \((\d+)\)/s.exec(error);
  if (buffer) {
    const [got, max] = size(buffer[1], buffer[2]);
    return `one tensor (${got}) is larger than this GPU's largest buffer (${max})${obtained}: ${fix}`;
  }
  if (/out of memory|OutOfMemory/i.test(error)) return `the GPU ran out of memory: ${fix}`;
  return null;
}

/** Throw if the device has reported an error since it was watched. */
export function throwIfDeviceError(device: GPUDevice): void {
  const error = lost.get(device) ?? firstError.get(device);
  if (error === undefined) return;
  const lines = error.split('\n').filter((l) => l.trim().length > 0);
  const hint = deviceErrorHint(error, bufferLimits(device));
  throw new Error(
    `WebGPU reported an error, so results since are wrong: ${lines.slice(0, 4).join(' | ')}` +
      (lines.length > 4 ? ' | … (full message on stderr)' : '') +
      (hint ? `\n${hint}` : ''),
  );
}

/** Forget the recorded error (bench-gpu, after reporting a failed section); returns it. A lost device stays lost. */
export function clearDeviceError(device: GPUDevice): string | undefined {
  const error = firstError.get(device);
  firstError.delete(device);
  return error;
}

/**
 * Run `work` inside validation and out-of-memory error scopes and return the first error
 * they caught, else one the device recorded outside them (cleared) or its loss: Dawn
 * reports asynchronously, so without the scopes a late error would be charged to whatever
 * runs next. `work` must wait for its GPU work (webgpuFinish) before it returns. What the
 * scopes catch never reaches the step boundaries' check. If `work` throws, that is rethrown.
 */
export async function withErrorScopes(device: GPUDevice, work: () => Promise<void>): Promise<string | null> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let failure: { error: unknown } | null = null;
  try {
    await work();
  } catch (error) {
    failure = { error };
  }
  const scoped = [await device.popErrorScope(), await device.popErrorScope()].find((e) => e);
  if (failure) throw failure.error;
  return scoped?.message ?? clearDeviceError(device) ?? lost.get(device) ?? null;
}
