/**
 * Start-up without a usable Vulkan driver reports why (never crashes), and the queue
 * helpers (webgpuThrottle, webgpuFinish) resolve on webgpu and are no-ops elsewhere.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { webgpuFinish, webgpuThrottle } from '../../src/backend/webgpu/index.js';
import { useWebgpu } from './gpu.js';

const initModule = fileURLToPath(new URL('../../src/backend/webgpu/init.ts', import.meta.url));

test('initWebgpuBackend with no Vulkan driver: ok false, the reason names the ICD search and the fix', () => {
  const probe = `
    const { initWebgpuBackend } = await import(${JSON.stringify(initModule)});
    process.stdout.write(JSON.stringify(await initWebgpuBackend()));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    env: { ...process.env, VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `probe exited ${r.status}: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { ok: boolean; reason?: string };
  assert.equal(res.ok, false);
  assert.match(res.reason ?? '', /VK_DRIVER_FILES=\/nonexistent\/icd\.json \(missing\)/);
  assert.match(res.reason ?? '', /install-lavapipe\.sh/);
  assert.match(res.reason ?? '', /nvidia_icd\.json/);
});

test('webgpuThrottle and webgpuFinish are no-ops on the cpu backend', async () => {
  await tf.setBackend('cpu');
  await webgpuThrottle();
  await webgpuFinish();
});

test('webgpuThrottle bounds queued steps and resolves; results stay correct', async (t) => {
  if (!(await useWebgpu(t))) return;
  const a = tf.variable(tf.ones([64, 64]));
  for (let i = 0; i < 8; i++) {
    tf.tidy(() => a.assign(tf.add(a, tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])))));
    await webgpuThrottle(2);
  }
  await webgpuFinish();
  const v = await a.data();
  assert.equal(v[0], 1 + 8 * 64);
  a.dispose();
});
