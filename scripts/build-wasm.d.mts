// Types of scripts/build-wasm.mjs for the TypeScript that imports it (test/engine/wasm-simd.test.ts).
export const SIMD_DIR: string;
export const GENERATED: string;
export const SHARED: string[];
export const SHARED_MAX_PAGES: number;
export const FMA: string[];
/** Base64 of each compiled module, keyed by its .wat file's base name (+ variant suffixes). */
export function compileModules(dir?: string): Promise<Record<string, string>>;
export function generatedSource(modules: Record<string, string>): string;
