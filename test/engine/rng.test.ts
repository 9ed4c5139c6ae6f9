// Seeded random numbers: WM's ziggurat noise must be N(0, σ²) with element n a function
// of (seed, n) only (Philox, checked against Random123's answers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { philox4x32 } from '../../src/util/philox.js';
import { fastNormalArray, ZIGGURAT_R } from '../../src/util/ziggurat.js';

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    t *
      (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

test('ziggurat samples are N(0, 1): moments, tails and the whole CDF (Kolmogorov-Smirnov)', () => {
  const n = 1_000_000;
  const x = fastNormalArray(n, 7);
  let [m, v, k] = [0, 0, 0];
  for (const s of x) m += s;
  m /= n;
  for (const s of x) {
    v += (s - m) ** 2;
    k += (s - m) ** 4;
  }
  v /= n;
  k = k / n / (v * v);
  assert.ok(Math.abs(m) < 0.005, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.005, `variance ${v}`);
  assert.ok(Math.abs(k - 3) < 0.03, `kurtosis ${k}`);
  // Inside the base layer (|x| > 3), the tail beyond the ziggurat's base R and beyond 4.
  const beyond = (t: number) => x.filter((s) => Math.abs(s) > t).length / n;
  for (const t of [3, ZIGGURAT_R, 4]) {
    const want = 2 * (1 - normalCdf(t));
    assert.ok(
      Math.abs(beyond(t) - want) < 4 * Math.sqrt(want / n),
      `P(|x| > ${t}) = ${beyond(t)}, want ${want}`,
    );
  }
  const sorted = Float64Array.from(x).sort();
  let d = 0;
  for (let i = 0; i < n; i += 97) d = Math.max(d, Math.abs(normalCdf(sorted[i]) - (i + 0.5) / n));
  assert.ok(d < 0.003, `KS distance ${d}`);
});

test('ziggurat noise is a function of its seed, scaled by std', () => {
  assert.deepEqual(fastNormalArray(1000, 3), fastNormalArray(1000, 3));
  assert.notDeepEqual(fastNormalArray(1000, 3), fastNormalArray(1000, 4));
  const [one, two] = [fastNormalArray(100, 5), fastNormalArray(100, 5, 2)];
  for (let i = 0; i < 100; i++) assert.equal(two[i], Math.fround(2 * one[i]));
});

test('Philox4x32-10 gives Random123 known answers (tests/kat_vectors)', () => {
  const hex = (words: Uint32Array) => [...words].map((w) => w.toString(16).padStart(8, '0')).join(' ');
  const out = new Uint32Array(4);
  const f = 0xffffffff;
  assert.equal(hex(philox4x32(0, 0, 0, 0, 0, 0, out)), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.equal(hex(philox4x32(f, f, f, f, f, f, out)), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  assert.equal(
    hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out)),
    'd16cfe09 94fdcceb 5001e420 24126ea1',
  );
});

test('ziggurat noise: element n depends on (seed, n) only, so any prefix is the shorter draw', () => {
  const long = fastNormalArray(100_003, 9);
  for (const n of [1, 2, 5, 4097, 99_999])
    assert.deepEqual(fastNormalArray(n, 9), long.subarray(0, n), `${n}`);
});
