import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cropInto, resampleInto } from '../../src/data/resample.js';
import { centerBox, rrcBox } from '../../src/data/transforms.js';
import { Rng } from '../../src/util/rng.js';

test('RandomResizedCrop boxes stay inside the image, within scale and ratio, and are seeded', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 500; i++) {
    const [w, h] = [50 + (i % 300), 40 + ((i * 7) % 250)];
    const b = rrcBox(w, h, [0.08, 1], [3 / 4, 4 / 3], rng);
    assert.ok(
      b.x0 >= 0 && b.y0 >= 0 && b.x1 <= w && b.y1 <= h && b.x1 > b.x0 && b.y1 > b.y0,
      JSON.stringify({ w, h, b }),
    );
    const area = ((b.x1 - b.x0) * (b.y1 - b.y0)) / (w * h);
    assert.ok(area <= 1 + 1e-9 && area > 0.05, `area ${area}`);
  }
  assert.deepEqual(
    rrcBox(100, 80, [0.08, 1], [0.75, 4 / 3], new Rng(9)),
    rrcBox(100, 80, [0.08, 1], [0.75, 4 / 3], new Rng(9)),
  );
  // Impossible ratio: falls back to the largest center crop with the nearest allowed ratio.
  assert.deepEqual(rrcBox(400, 10, [0.9, 1], [1, 1], new Rng(0)), { x0: 195, y0: 0, x1: 205, y1: 10 });
});

test('center box = torchvision Resize(size / crop_pct) + CenterCrop(size)', () => {
  // 500x375 at 224: shorter side 256 -> 341x256, crop left round(58.5) = 58 (Python rounds half to even).
  const b = centerBox(500, 375, 224, 0.875);
  const s = 500 / 341;
  assert.deepEqual(b, { x0: 58 * s, y0: 16 * (375 / 256), x1: 282 * s, y1: 240 * (375 / 256) });
  assert.deepEqual(centerBox(128, 128, 112, 0.875), { x0: 8, y0: 8, x1: 120, y1: 120 });
});

test('resampling: identity, constant, 2x box average, flip', () => {
  const w = 6;
  const h = 4;
  const src = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) & 255);
  const out = new Uint8Array(w * h * 3);
  resampleInto(src, w, h, 3, { x0: 0, y0: 0, x1: w, y1: h }, out, 0, w, h, false);
  assert.deepEqual([...out], [...src], 'same size, whole box: exact copy');
  const flat = new Uint8Array(10 * 10).fill(77);
  const small = new Uint8Array(3 * 3);
  resampleInto(flat, 10, 10, 1, { x0: 1.5, y0: 0.25, x1: 9, y1: 7 }, small, 0, 3, 3, false);
  assert.ok(small.every((v) => v === 77));
  // Downscale 2x of alternating 0/200 columns: the antialiasing filter averages them.
  const stripes = Uint8Array.from({ length: 8 * 8 }, (_, i) => (i % 2 ? 200 : 0));
  const half = new Uint8Array(4 * 4);
  resampleInto(stripes, 8, 8, 1, { x0: 0, y0: 0, x1: 8, y1: 8 }, half, 0, 4, 4, false);
  assert.ok(
    half.every((v) => Math.abs(v - 100) <= 25),
    [...half].join(','),
  );
  const ramp = Uint8Array.from({ length: 5 }, (_, i) => i * 50);
  const flipped = new Uint8Array(5);
  resampleInto(ramp, 5, 1, 1, { x0: 0, y0: 0, x1: 5, y1: 1 }, flipped, 0, 5, 1, true);
  assert.deepEqual([...flipped], [200, 150, 100, 50, 0]);
});

test('cropInto pads with zeros outside the image and mirrors', () => {
  const src = Uint8Array.from([1, 2, 3, 4]); // 2x2, 1 channel
  const out = new Uint8Array(4);
  cropInto(src, 2, 2, 1, -1, 0, out, 0, 2, 2, false);
  assert.deepEqual([...out], [0, 1, 0, 3]);
  cropInto(src, 2, 2, 1, 0, 1, out, 0, 2, 2, true);
  assert.deepEqual([...out], [4, 3, 0, 0]);
});
