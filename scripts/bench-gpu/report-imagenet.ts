/** Issue 16's part of bench.md, and bench.json: one row per (net, image size, batch, rule). */
import { f0, f1, table } from '../stats.js';
import type { BenchResults } from './results.js';
import type { StepProfile, StepRow } from './steps.js';
import type { TorchRow } from './torch.js';

/** ImageNet's train split (ILSVRC-2012), for the time per epoch. */
export const IMAGENET_TRAIN_IMAGES = 1_281_167;

export const isImagenetRow = (label: string) => /\b224px\b/.test(label);

/** One row of bench.json, exactly these keys (issue 16). */
export interface BenchJsonRow {
  net: string;
  image_size: number;
  batch: number;
  rule: string;
  /** wtrain's ms/step as training runs (pipelined: ≤ 2 steps queued, webgpuThrottle). */
  wtrain_ms: number | null;
  /** PyTorch's, pipelined likewise (back-to-back steps, one synchronize). */
  torch_fp32_ms: number | null;
  torch_amp_ms: number | null;
  /** wtrain's images/s from wtrain_ms. */
  img_per_s: number | null;
  /** wtrain's peak GPU memory: the buffer pool's bytes held by tensors (StepRow.peakUsedMb), MiB. */
  peak_mem_mb: number | null;
}

const torchMs = (t: TorchRow | undefined) => (t ? (t.pipelinedMs ?? t.medianMs) : null);
const round = (x: number | null | undefined, d = 1) => (x == null ? null : Number(x.toFixed(d)));

function torchRow(r: BenchResults, net: string, rule: string, precision: string): TorchRow | undefined {
  return r.torchImagenet.rows.find((t) => t.net === net && t.rule === rule && t.precision === precision);
}

/** The (net label, rule) pairs measured on either side, wtrain's order first. */
function pairs(r: BenchResults): Array<{ net: string; rule: string; batch: number; row?: StepRow }> {
  const out: Array<{ net: string; rule: string; batch: number; row?: StepRow }> = r.imagenet.map((row) => ({
    net: row.net,
    rule: row.rule,
    batch: row.batch,
    row,
  }));
  for (const t of r.torchImagenet.rows) {
    if (out.some((p) => p.net === t.net && p.rule === t.rule)) continue;
    out.push({ net: t.net, rule: t.rule, batch: Number(/ b(\d+) /.exec(t.net)?.[1] ?? 0) });
  }
  return out;
}

export function benchJson(r: BenchResults): BenchJsonRow[] {
  return pairs(r).map(({ net, rule, batch, row }) => {
    const ms = row?.pipelinedMs ?? null;
    return {
      net: net.split(' ')[0],
      image_size: Number(/(\d+)px/.exec(net)?.[1] ?? 0),
      batch,
      rule,
      wtrain_ms: round(ms, 2),
      torch_fp32_ms: round(torchMs(torchRow(r, net, rule, 'fp32')), 2),
      torch_amp_ms: round(torchMs(torchRow(r, net, rule, 'amp')), 2),
      img_per_s: ms ? round((batch * 1000) / ms, 0) : null,
      peak_mem_mb: round(row?.peakUsedMb, 0),
    };
  });
}

/** MiB as GiB with one decimal, or as MiB under 1 GiB. */
const gib = (mb: number | null | undefined) =>
  mb == null ? '–' : mb >= 1024 ? `${(mb / 1024).toFixed(1)} GiB` : `${mb.toFixed(0)} MiB`;
const ratio = (a: number | null, b: number | null) => (a && b ? `${(a / b).toFixed(1)}×` : '–');

function stepTable(r: BenchResults): string {
  const rows = pairs(r).map(({ net, rule, row }) => {
    const [fp32, tf32, amp] = ['fp32', 'tf32', 'amp'].map((p) => torchRow(r, net, rule, p));
    const ms = row?.pipelinedMs ?? null;
    return [
      net.replace(' 224px', ''),
      rule.toUpperCase(),
      f1(ms),
      f1(row?.medianMs),
      f0(row ? (row.batch * 1000) / row.pipelinedMs : null),
      f1(torchMs(fp32)),
      f1(torchMs(tf32)),
      f1(torchMs(amp)),
      ratio(ms, torchMs(fp32)),
      ratio(ms, torchMs(amp)),
      `${gib(row?.peakUsedMb)} (${gib(row?.peakAllocatedMb)})`,
      `${gib(fp32?.peakAllocatedMb)} (${gib(fp32?.peakReservedMb)})`,
      f1(row?.hostMs),
      f0(row?.dispatches),
      row ? (row.tensorDelta === 0 ? 'yes' : `+${row.tensorDelta}`) : '–',
    ];
  });
  const head = ['net (224 px)', 'rule', 'wtrain ms/step (pipelined)', 'wtrain median ms', 'wtrain img/s'];
  head.push('PyTorch fp32 ms', 'PyTorch TF32 ms', 'PyTorch AMP ms', 'wtrain / fp32', 'wtrain / AMP');
  head.push(
    'wtrain peak memory (pool)',
    'PyTorch fp32 peak memory (reserved)',
    'host ms/step',
    'dispatches/step',
    'tensors flat',
  );
  return table(head, rows);
}

function targets(r: BenchResults): string[] {
  const ms = (net: string, rule: string) =>
    r.imagenet.find((s) => s.net === net && s.rule === rule)?.pipelinedMs ?? null;
  const out: string[] = [];
  for (const net of [...new Set(r.imagenet.map((s) => s.net))]) {
    const short = net.replace(' 224px', '');
    for (const rule of ['bp', 'kp']) {
      const x = ratio(ms(net, rule), torchMs(torchRow(r, net, rule, 'fp32')));
      if (/ b128 /.test(`${net} `) && x !== '–')
        out.push(`${short} ${rule.toUpperCase()}: ${x} PyTorch fp32 (target ≤ 2×)`);
    }
    const wm = ratio(ms(net, 'wm'), ms(net, 'bp'));
    if (wm !== '–') out.push(`${short} WM / BP: ${wm} (target ≤ 1.3×)`);
  }
  const big = r.imagenet.filter((s) => s.net.startsWith('resnet50 b256'));
  const fits = big.map(
    (s) => `${s.rule.toUpperCase()} ${gib(s.peakUsedMb)} held (${gib(s.peakAllocatedMb)} pooled)`,
  );
  out.push(
    `ResNet-50 b256 on this card: ${fits.length > 0 ? fits.join(', ') : 'not measured (or failed: see Errors)'} (target: fits in 80 GB)`,
  );
  return out.map((l) => `- ${l}`);
}

/** Hours per ImageNet epoch at each side's best rate for a net and rule (whichever batch was faster). */
function epochTable(r: BenchResults): string {
  const rows: Array<Array<string | number>> = [];
  for (const arch of ['resnet18', 'resnet50']) {
    for (const rule of [...new Set(r.imagenet.map((s) => s.rule as string))]) {
      const best = (ips: Array<number | null>) => Math.max(0, ...ips.filter((x): x is number => x !== null));
      const mine = r.imagenet.filter((s) => s.net.startsWith(arch) && s.rule === rule);
      const rate = (p: string) =>
        best(
          r.torchImagenet.rows
            .filter((t) => t.net.startsWith(arch) && t.rule === rule && t.precision === p)
            .map(
              (t) => (Number(/ b(\d+) /.exec(t.net)?.[1]) * 1000) / (torchMs(t) ?? Number.POSITIVE_INFINITY),
            ),
        );
      const w = best(mine.map((s) => (s.batch * 1000) / s.pipelinedMs));
      const h = (ips: number) => (ips > 0 ? (IMAGENET_TRAIN_IMAGES / ips / 3600).toFixed(2) : '–');
      const d90 = (ips: number) => (ips > 0 ? ((90 * IMAGENET_TRAIN_IMAGES) / ips / 86400).toFixed(1) : '–');
      if (w > 0)
        rows.push([
          arch,
          rule.toUpperCase(),
          h(w),
          h(rate('fp32')),
          h(rate('amp')),
          d90(w),
          d90(rate('fp32')),
        ]);
    }
  }
  return table(
    [
      'net',
      'rule',
      'wtrain h/epoch',
      'PyTorch fp32 h/epoch',
      'PyTorch AMP h/epoch',
      'wtrain days / 90 epochs',
      'PyTorch fp32 days / 90 epochs',
    ],
    rows,
  );
}

function dataMarkdown(r: BenchResults): string[] {
  const d = r.data;
  if (!d) return [];
  const s = d.set;
  const out = ['', `### Data pipeline at ${d.size} px (${d.cores} cores, ${d.cpu})`, ''];
  out.push(
    `ImageNet-like set (scripts/bench-data-imagenet.ts): ${s.train} train + ${s.val} val JPEGs from Imagewoof, ` +
      `${s.meanWidth.toFixed(0)}x${s.meanHeight.toFixed(0)} px, ${s.meanKb.toFixed(0)} KB on average (quality ${s.quality}), made in ${s.seconds.toFixed(1)} s. ` +
      `The loader's train pipeline (read, decode, RandomResizedCrop + flip to ${d.size} px, batches of ${d.batch}), worker threads:`,
    '',
  );
  const pool = (uv: number | null | undefined) => (uv == null ? '4 (Node default)' : uv);
  out.push(
    table(
      ['decode threads', 'libuv pool (UV_THREADPOOL_SIZE)', 'images', 's', 'images/s'],
      d.rows.map((x) => [x.threads, pool(x.uvThreads), x.images, x.seconds.toFixed(2), f0(x.imagesPerSec)]),
    ),
    '',
    "sharp decodes on libuv's pool, one per process and shared by the decode workers: with Node's default of 4 " +
      'threads at most 4 images decode at once, whatever `data.workers` says. Each row ran in its own process with ' +
      'the pool shown; the ceiling below is the best row.',
  );
  if (d.split) {
    const c = d.split;
    out.push(
      '',
      `One image on one thread: decode ${c.decodeMs.toFixed(2)} ms, RandomResizedCrop + flip ${c.geometryMs.toFixed(2)} ms ` +
        `(${c.images} images, ${c.meanKb.toFixed(0)} KB). Crops at least 2x / 3x the output on both axes, where a JPEG ` +
        `shrink-on-load could decode at half size: ${(100 * c.shrinkable2x).toFixed(0)} % / ${(100 * c.shrinkable3x).toFixed(0)} %.`,
    );
  }
  const ceiling = Math.max(0, ...d.rows.map((x) => x.imagesPerSec));
  const needs: Array<{ what: string; ips: number }> = [];
  for (const arch of ['resnet18', 'resnet50']) {
    const mine = r.imagenet
      .filter((x) => x.net.startsWith(arch))
      .map((x) => (x.batch * 1000) / x.pipelinedMs);
    if (mine.length > 0) needs.push({ what: `wtrain ${arch} (fastest row)`, ips: Math.max(...mine) });
    const amp = r.torchImagenet.rows
      .filter((t) => t.net.startsWith(arch) && t.precision === 'amp' && t.rule === 'bp')
      .map((t) => (Number(/ b(\d+) /.exec(t.net)?.[1]) * 1000) / (torchMs(t) ?? Number.POSITIVE_INFINITY));
    if (amp.length > 0) needs.push({ what: `PyTorch AMP ${arch} BP`, ips: Math.max(...amp) });
  }
  if (ceiling > 0 && needs.length > 0) {
    const vs = (n: { what: string; ips: number }) =>
      `${n.what} ${f0(n.ips)} img/s → ${(ceiling / n.ips).toFixed(1)}× (${ceiling >= n.ips ? 'keeps up' : 'data-bound'})`;
    out.push('', `Ceiling here: ${f0(ceiling)} images/s. Against the trainers: ${needs.map(vs).join('; ')}.`);
  }
  return out;
}

function e2eMarkdown(r: BenchResults): string[] {
  const e = r.e2e;
  if (!e) return [];
  const pctOf = (x: number | null) => (x == null ? '–' : `${(100 * x).toFixed(0)} %`);
  return [
    '',
    `### End-to-end epoch: \`wtrain run\`, ${e.arch} ${e.rule.toUpperCase()}, batch ${e.batch}, ${e.imageSize} px, ${e.workers} decode threads, UV_THREADPOOL_SIZE=${e.uvThreads}`,
    '',
    table(
      [
        'train / val images',
        'steps',
        'train img/s (steady)',
        'data wait',
        'first interval',
        'process s',
        'train loss',
        'val top-1 err',
        'epoch record img/s (with val)',
        'exit',
      ],
      [
        [
          `${e.trainImages} / ${e.valImages}`,
          e.steps,
          f0(e.trainImgPerSec),
          pctOf(e.dataWait),
          e.firstIntervalS == null ? '–' : `${e.firstIntervalS.toFixed(1)} s (${e.firstIntervalSteps} steps)`,
          e.processS.toFixed(1),
          e.trainLoss?.toFixed(3) ?? '–',
          e.valTop1?.toFixed(3) ?? '–',
          f0(e.epochImgPerSec),
          e.exitCode ?? e.signal ?? '–',
        ],
      ],
    ),
    '',
    'Steady = the step records after the first (metrics.jsonl: wall_s between records, data_wait weighted by time); data wait = the share of that time the loop waited for the next batch, the rest is the step. e2e/ holds the config, metrics.jsonl and the output.',
  ];
}

export function profileMarkdown(p: StepProfile): string[] {
  return [
    '',
    `### Kernel profile: ${p.net} ${p.rule.toUpperCase()} (one step, GPU timestamps)`,
    '',
    `${p.dispatches} kernel calls, ${f1(p.kernelMs)} ms of GPU time in kernels.`,
    '',
    table(
      ['kernel', 'calls', 'ms', 'share'],
      p.top.map((k) => [
        k.name,
        k.count,
        f1(k.totalMs),
        `${((100 * k.totalMs) / (p.kernelMs || 1)).toFixed(0)} %`,
      ]),
    ),
  ];
}

export function imagenetMarkdown(r: BenchResults): string {
  const o = r.options as { bigSteps?: number; bigWarmup?: number; wmMirrorBatch?: number | null };
  const lim = r.limits;
  const out = [`## ImageNet scale (224 px): wtrain webgpu vs PyTorch (${r.gpu ?? r.adapter})`, ''];
  out.push(
    `${r.date}; WebGPU adapter: ${r.adapter}` +
      (lim
        ? `; device limits (the adapter's maximum): one binding ≤ ${f0(lim.maxStorageBufferBindingSize / 2 ** 20)} MiB, one buffer ≤ ${f0(lim.maxBufferSize / 2 ** 20)} MiB`
        : '') +
      `; Node ${r.node}, tfjs ${r.tfjs}; PyTorch ${r.torchImagenet.torch ?? '–'} on ${r.torchImagenet.device ?? '–'}. ` +
      `Synthetic uint8 batches, 1000 classes, fp32 on webgpu. After ${o.bigWarmup} warm-up steps: wtrain's median of ${o.bigSteps} steps each waited for, ` +
      `and "pipelined" = the mean of ${o.bigSteps} back-to-back steps with at most 2 queued (as \`wtrain run\` trains), the number bench.json keeps. ` +
      'PyTorch (scripts/bench-gpu-torch.py, the same nets, NCHW, cudnn.benchmark): pipelined likewise; fp32 = TF32 off; AMP = autocast float16 + GradScaler. ' +
      `WM's mirror batch: ${o.wmMirrorBatch ?? 'the training batch (App. D.2)'}. Peak memory: wtrain = the highest bytes tfjs-webgpu's buffer pool held for tensors ` +
      '(tf.memory().numBytesInGPU), in brackets the pool with its free buffers; PyTorch = torch.cuda.max_memory_allocated (max_memory_reserved).',
    '',
  );
  out.push(stepTable(r));
  if (!r.torchImagenet.ok) out.push('', `PyTorch: not run (${r.torchImagenet.reason}).`);
  for (const e of r.torchImagenet.errors ?? []) out.push(`- PyTorch: ${e}`);
  out.push('', '### Targets (issue 16)', '', ...targets(r));
  out.push(
    '',
    `### Time per ImageNet epoch (${f0(IMAGENET_TRAIN_IMAGES)} images), at the faster batch`,
    '',
    epochTable(r),
  );
  out.push(...dataMarkdown(r), ...e2eMarkdown(r));
  for (const p of r.profiles.filter((x) => isImagenetRow(x.net))) out.push(...profileMarkdown(p));
  return out.join('\n');
}
