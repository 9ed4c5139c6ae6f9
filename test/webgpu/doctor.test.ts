/**
 * The one-command check of a machine's WebGPU setup (src/backend/webgpu/doctor.ts, what
 * `scripts/bench-gpu.sh doctor` prints) says plainly what is missing. Run in a child
 * process: the environment decides what Dawn finds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { webgpu } from './gpu.js';

const doctorModule = fileURLToPath(new URL('../../src/backend/webgpu/doctor.ts', import.meta.url));

function doctor(env: NodeJS.ProcessEnv): { text: string; ok: boolean } {
  const probe = `
    const { checkWebgpuSetup, formatCheck } = await import(${JSON.stringify(doctorModule)});
    process.stdout.write(JSON.stringify(formatCheck(await checkWebgpuSetup())));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `probe exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('with no usable Vulkan driver the check names the ICD file, what is missing and the fix', () => {
  const res = doctor({ VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '' });
  assert.equal(res.ok, false);
  assert.match(
    res.text,
    /MISSING {2}Vulkan driver \(ICD\): not usable: \/nonexistent\/icd\.json \(missing\)/,
  );
  assert.match(res.text, /nvidia_icd\.json.*install-lavapipe\.sh/);
  assert.match(res.text, /MISSING {2}Dawn and a WebGPU adapter/);
  assert.match(res.text, /webgpu: not ready, missing: Vulkan driver \(ICD\); Dawn and a WebGPU adapter$/);
});

test('where an adapter exists the check passes and reports the device limits', async (t) => {
  const here = await webgpu();
  if (!here.ok) {
    t.skip(`no WebGPU adapter here: ${here.reason.split('\n')[0]}`);
    return;
  }
  const res = doctor({});
  assert.equal(res.ok, true, res.text);
  assert.match(res.text, /ok {7}Vulkan loader: \S*libvulkan\.so\.1/);
  assert.match(res.text, /ok {7}Dawn and a WebGPU adapter: .*one binding ≤ \d+ MiB, one buffer ≤ \d+ MiB/);
  assert.match(res.text, /webgpu: ready$/);
});
