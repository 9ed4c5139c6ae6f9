/**
 * Compiling the generated modules (modules.generated.ts), once per thread. Free of
 * tfjs, so the wasm worker threads load only this and conv2d.wat.
 */
import v8 from 'node:v8';
import { WASM_MODULES_BASE64 } from './modules.generated.js';

const compiled = new Map<string, WebAssembly.Module | null>();

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** A generated module, compiled once per thread; null when this runtime can't compile it. */
export function compiledModule(name: string): WebAssembly.Module | null {
  if (!compiled.has(name)) {
    try {
      compiled.set(
        name,
        optimised(() => new WebAssembly.Module(decode(WASM_MODULES_BASE64[name]))),
      );
    } catch {
      compiled.set(name, null);
    }
  }
  return compiled.get(name) ?? null;
}

/**
 * conv2d.wat with fused multiply-adds (relaxed SIMD: ~25 % faster here) where the
 * runtime compiles it, else the plain build. Node 20's V8 has relaxed SIMD behind a
 * flag (on by default from V8 11.4); the flag only lets modules use those opcodes.
 * WTRAIN_WASM_FMA=0 keeps the plain build. `shared`: the worker threads' build.
 */
export function convModule(shared = false): WebAssembly.Module {
  const suffix = shared ? '_shared' : '';
  if (process.env.WTRAIN_WASM_FMA !== '0') {
    enableRelaxedSimd();
    const fma = compiledModule(`conv2d_fma${suffix}`);
    if (fma) return fma;
  }
  return compiledModule(`conv2d${suffix}`) as WebAssembly.Module;
}

let relaxedSimdTried = false;
function enableRelaxedSimd(): void {
  if (relaxedSimdTried) return;
  relaxedSimdTried = true;
  if (WebAssembly.validate(decode(WASM_MODULES_BASE64.conv2d_fma))) return;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not settable: the plain build runs
  }
}

/**
 * Compile with V8's optimising compiler up front (--no-liftoff for this call only).
 * Otherwise each function starts in V8's baseline code and tiers up after its first
 * calls: the first conv2d_valid call on 64 images of 16x16x32 → 32 took 67 ms, against
 * 16 ms optimised (the same in steady state). Our modules are small: compiling them
 * optimised takes a few ms.
 */
function optimised<T>(compile: () => T): T {
  if (process.execArgv.includes('--no-liftoff')) return compile(); // already so, and stays
  try {
    v8.setFlagsFromString('--no-liftoff');
  } catch {
    return compile();
  }
  try {
    return compile();
  } finally {
    v8.setFlagsFromString('--liftoff');
  }
}
