#!/usr/bin/env node
/**
 * `npm run bundle`: a self-contained copy of wtrain for machines without npm or
 * network (HPC compute nodes, the GPU machine). Writes bundle/:
 *
 *   wtrain.mjs, bench-gpu.mjs   esbuild bundles (tfjs and every JS dependency inside);
 *                               bench-gpu.mjs also runs scripts/gpu-check.ts (`bench-gpu.mjs check`)
 *   bench-study-jobs.mjs        scripts/bench-study-jobs.ts (several runs on one GPU, issue 15)
 *   webgpu-tests.mjs            with --gpu-tests: test/webgpu's kernel tests in one file (node
 *                               --test), to run them on a real GPU (scripts/bench-gpu.sh check)
 *   decode-worker.js            the data layer's worker thread
 *   wasm-worker.js              a wasm compute thread (backend.threads > 1)
 *   *.wasm                      tfjs-backend-wasm's binaries (found next to the bundle)
 *   node_modules/webgpu/        Dawn: package.json, index.js, dist/<platform>-<arch>/dawn.node
 *   bench-gpu-torch.py          the PyTorch side of the GPU benchmark
 *
 * Run with a plain `node bundle/wtrain.mjs ...` (Node >= 20). sharp (JPEG decoding,
 * report PNGs) is native and large (17 MB): left out unless --with-sharp; without it
 * the MNIST/CIFAR binary formats and cached data sets still work.
 *
 * Usage: node scripts/bundle.mjs [--out DIR] [--with-sharp] [--minify] [--gpu-tests] [entry.ts=name ...]
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The bundle's budget; sharp with libvips adds ~17 MB (scripts/bench-gpu.sh prepare carries it, xz-packed). */
const MAX_BYTES = 40 * 1024 * 1024;
const SHARP_BYTES = 20 * 1024 * 1024;

function parseArgs(argv) {
  const opts = {
    out: path.join(ROOT, 'bundle'),
    withSharp: false,
    minify: false,
    gpuTests: false,
    entries: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === '--with-sharp') opts.withSharp = true;
    else if (a === '--minify') opts.minify = true;
    else if (a === '--gpu-tests') opts.gpuTests = true;
    else if (a.includes('=')) {
      const [file, name] = a.split('=');
      opts.entries.push({ file, name });
    } else throw new Error(`unknown argument ${a}`);
  }
  if (opts.entries.length === 0) {
    opts.entries = [
      { file: 'src/cli/main.ts', name: 'wtrain', cli: true },
      { file: 'scripts/bench-gpu.ts', name: 'bench-gpu' },
      { file: 'scripts/bench-study-jobs.ts', name: 'bench-study-jobs' },
    ];
  }
  if (opts.gpuTests) opts.entries.push(gpuTestsEntry());
  return opts;
}

/**
 * test/webgpu's tests that need only the bundle (init.test, doctor.test and kill_resume.test spawn tsx),
 * as one file: esbuild's code splitting breaks tfjs-backend-webgpu's start (its chunk
 * order leaves WebGPUBackend undefined), and one bundle per test would be ~15 MB each.
 */
function gpuTestsEntry() {
  const dir = 'test/webgpu';
  const files = readdirSync(path.join(ROOT, dir)).filter(
    (f) => f.endsWith('.test.ts') && !['init.test.ts', 'doctor.test.ts', 'kill_resume.test.ts'].includes(f),
  );
  const contents = files.map((f) => `import './${dir}/${f}';`).join('\n');
  return { name: 'webgpu-tests', file: `${dir}/${files[0]}`, contents };
}

/** ESM output has no require/__dirname; CommonJS dependencies (tfjs, the wasm loader) need both. */
const BANNER = [
  "import { createRequire as __wtrainRequire } from 'node:module';",
  "import { fileURLToPath as __wtrainPath } from 'node:url';",
  "import { dirname as __wtrainDir } from 'node:path';",
  'const require = __wtrainRequire(import.meta.url);',
  'const __filename = __wtrainPath(import.meta.url);',
  'const __dirname = __wtrainDir(__filename);',
].join('\n');

const SHARP_STUB = `
const missing = () => {
  throw new Error('sharp (JPEG/PNG decoding, report figures) is not in this bundle: ' +
    'rebuild with "npm run bundle -- --with-sharp" or run wtrain from an npm install');
};
export default Object.assign(missing, { cache() {}, concurrency() {}, versions: {} });
`;

function stubSharp() {
  return {
    name: 'stub-sharp',
    setup(build) {
      build.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'wtrain-stub' }));
      build.onLoad({ filter: /.*/, namespace: 'wtrain-stub' }, () => ({
        contents: SHARP_STUB,
        loader: 'js',
      }));
    },
  };
}

/** Packages loaded at run time from bundle/node_modules: which of their files, and whether their deps follow. */
function runtimePackages(withSharp) {
  const dawn = `dist/${process.platform}-${process.arch === 'x64' ? 'x64' : process.arch}`;
  const pkgs = { webgpu: { files: ['package.json', 'index.js', dawn], deps: false } };
  if (withSharp) pkgs.sharp = { files: null, deps: true };
  return pkgs;
}

const SKIP = /(^|\/)(README[^/]*|CHANGELOG[^/]*|docs?|test|tests|.*\.d\.ts|.*\.map|.*\.md)$/i;

function copyPackage(name, spec, outModules, seen) {
  if (seen.has(name)) return;
  seen.add(name);
  const src = path.join(ROOT, 'node_modules', name);
  if (!existsSync(src)) return;
  const dest = path.join(outModules, name);
  const files = spec.files ?? ['.'];
  for (const f of files) {
    const from = path.join(src, f);
    if (!existsSync(from)) throw new Error(`${name}: ${f} is missing (is the package installed?)`);
    cpSync(from, path.join(dest, f), { recursive: true, filter: (p) => !SKIP.test(path.relative(src, p)) });
  }
  if (!spec.deps) return;
  const pkg = JSON.parse(readFileSync(path.join(src, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    copyPackage(dep, { files: null, deps: true }, outModules, seen);
  }
}

/** Total bytes of the files under `p`. */
function sizeOf(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((sum, name) => sum + sizeOf(path.join(p, name)), 0);
}

function esbuildOptions(opts, external, plugins) {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    external,
    plugins,
    minify: opts.minify,
    legalComments: 'none',
    // tfjs's package.json "sideEffects" lists miss its node builds: without this the bare
    // `import '@tensorflow/tfjs-backend-cpu'` (which registers the backend) is dropped.
    ignoreAnnotations: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  };
}

/** One self-contained file per entry: a source file, the CLI's main, or `contents` (imports). */
async function bundleEntry(entry, opts, external, plugins) {
  const contents = entry.cli
    ? `import { main } from './${entry.file}';\nprocess.exit(await main(process.argv));\n`
    : entry.contents;
  const input = contents
    ? { stdin: { contents, resolveDir: ROOT, sourcefile: `${entry.name}-entry.ts`, loader: 'ts' } }
    : { entryPoints: [entry.file] };
  await esbuild.build({
    ...esbuildOptions(opts, external, plugins),
    ...input,
    outfile: path.join(opts.out, `${entry.name}.mjs`),
  });
}

/**
 * esbuild bundles `import('./literal.js')` but leaves `import(variable)` to run time, where
 * the module is not next to the bundle: list those so they can be made literal.
 */
function reportRuntimeImports(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(/\bimport\(\s*[A-Za-z_$][\w$.]*\s*\)/g)) {
      const excerpt = line.slice(Math.max(0, m.index - 40), m.index + m[0].length + 10).trim();
      console.warn(
        `bundle: ${path.basename(file)}:${i + 1}: import() of a variable stays unbundled: …${excerpt}…`,
      );
    }
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const entries = opts.entries.filter((e) => {
    const ok = existsSync(path.join(ROOT, e.file));
    if (!ok) console.warn(`bundle: skipping ${e.file} (not in this checkout)`);
    return ok;
  });
  rmSync(opts.out, { recursive: true, force: true });
  mkdirSync(opts.out, { recursive: true });
  const packages = runtimePackages(opts.withSharp);
  const external = Object.keys(packages);
  const plugins = opts.withSharp ? [] : [stubSharp()];
  for (const entry of entries) await bundleEntry(entry, opts, external, plugins);
  // Worker threads are spawned from next to the bundle (src/util/worker.ts).
  for (const worker of ['src/data/decode-worker.ts', 'src/backend/wasm/threads/wasm-worker.ts']) {
    if (!existsSync(path.join(ROOT, worker))) continue;
    await esbuild.build({
      ...esbuildOptions(opts, external, plugins),
      entryPoints: [path.join(ROOT, worker)],
      outfile: path.join(opts.out, `${path.basename(worker, '.ts')}.js`),
    });
  }
  const rootPkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(
    path.join(opts.out, 'package.json'),
    `${JSON.stringify({ name: 'wtrain-bundle', version: rootPkg.version, type: 'module', private: true }, null, 2)}\n`,
  );
  const wasmDir = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) {
    cpSync(path.join(wasmDir, f), path.join(opts.out, f));
  }
  const torch = path.join(ROOT, 'scripts/bench-gpu-torch.py');
  if (existsSync(torch)) cpSync(torch, path.join(opts.out, 'bench-gpu-torch.py'));
  const seen = new Set();
  for (const [name, spec] of Object.entries(packages))
    copyPackage(name, spec, path.join(opts.out, 'node_modules'), seen);

  for (const entry of entries) reportRuntimeImports(path.join(opts.out, `${entry.name}.mjs`));
  const total = sizeOf(opts.out);
  const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  console.log(
    `bundle: ${path.relative(ROOT, opts.out) || opts.out} ${mb(total)} (${entries.map((e) => `${e.name}.mjs`).join(', ')})`,
  );
  const budget = MAX_BYTES + (opts.withSharp ? SHARP_BYTES : 0);
  if (total > budget) {
    console.error(`bundle: ${mb(total)} exceeds the ${mb(budget)} budget`);
    process.exitCode = 1;
  }
}

await main();
