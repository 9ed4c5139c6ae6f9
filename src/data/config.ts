/**
 * The `data:` section of a run config. Relative paths are resolved against the folder of
 * the file that wrote them (see `resolveDataPaths`), or the working directory for `--set`.
 */
import path from 'node:path';
import { z } from 'zod';

export const DATA_SOURCES = [
  'mnist',
  'fashion_mnist',
  'cifar10',
  'imagefolder',
  'webdataset',
  'tfrecord',
  'cache',
] as const;
export type DataSourceName = (typeof DATA_SOURCES)[number];

const pathString = z.string().min(1).nullable().default(null);

const rangeSchema = z
  .tuple([z.number().int().min(0), z.number().int().min(1)])
  .refine(([start, end]) => start < end, 'expected [start, end] with start < end');

/** Which samples one split (train or val) of the run uses. */
const splitSchema = z
  .strictObject({
    /**
     * Which of the source's own splits to read: `train` or `val` (`test` is a synonym of
     * `val`: MNIST's t10k files, CIFAR-10's test_batch). Default: the split's own name.
     */
    from: z.enum(['train', 'val', 'test']).nullable().default(null),
    /** [start, end): only these samples of that split, in the source's file order (not webdataset/tfrecord). */
    range: rangeSchema.nullable().default(null),
    /**
     * At most this many samples. Indexed sources: a fixed random subset (the same for every
     * run seed). webdataset/tfrecord: each epoch stops after this many samples of its stream.
     */
    limit: z.number().int().positive().nullable().default(null),
    /** webdataset/tfrecord: samples in the split, if known; skips the counting scan at start-up. */
    num_samples: z.number().int().positive().nullable().default(null),
  })
  .prefault({});

export const dataConfigSchema = z
  .strictObject({
    source: z.enum(DATA_SOURCES),
    /**
     * mnist/fashion_mnist/cifar10: folder of the official files. imagefolder: root with
     * `train/` and `val/` (or a folder of class folders). webdataset/tfrecord: train shard
     * pattern, braces allowed (`shards/train-{000000..000127}.tar`). cache: folder written by
     * `wtrain data prepare`. fashion_mnist defaults to /usr/share/datasets/fashion-mnist.
     */
    path: pathString,
    /** imagefolder: val folder (class folders or flat + label file); webdataset/tfrecord: val shard pattern. */
    val_path: pathString,
    /** imagefolder flat val: `LOC_val_solution.csv` or `ILSVRC2012_validation_ground_truth.txt` (found next to val/ if unset). */
    val_labels: pathString,
    /** The devkit's `meta.mat`, which maps its ILSVRC2012 ids to wnids (found next to the ground truth if unset). */
    devkit_meta: pathString,
    /** Side of the square images fed to the model. Default: 28 (MNIST), 32 (CIFAR-10), 224 (ImageNet-style). */
    image_size: z.number().int().min(8).max(1024).nullable().default(null),
    /** Eval resize: shorter side to floor(image_size / crop_pct), then center crop (ImageNet convention). */
    crop_pct: z.number().gt(0).max(1).default(0.875),
    /**
     * Train-time augmentation. auto: imagenet for imagefolder/webdataset/tfrecord, cifar for
     * cifar10, none for MNIST. imagenet: RandomResizedCrop + flip. cifar: pad 4 + random crop
     * + flip. none: the eval transform.
     */
    augment: z.enum(['auto', 'imagenet', 'cifar', 'none']).default('auto'),
    /** RandomResizedCrop area range (fraction of the image) and aspect-ratio range. */
    rrc_scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([0.08, 1]),
    rrc_ratio: z.tuple([z.number().positive(), z.number().positive()]).default([3 / 4, 4 / 3]),
    /** Per-channel normalisation override; default: the dataset's published mean/std. */
    mean: z.array(z.number()).min(1).max(3).nullable().default(null),
    std: z.array(z.number().positive()).min(1).max(3).nullable().default(null),
    /** webdataset/tfrecord: number of classes (labels must be < this). */
    num_classes: z.number().int().min(2).nullable().default(null),
    /**
     * webdataset/tfrecord: whether stored labels start at 0 or 1. auto: 1 for the TPU
     * converter's `image/class/label`, else 0.
     */
    label_base: z.union([z.literal('auto'), z.literal(0), z.literal(1)]).default('auto'),
    /**
     * Which decoder complaints make an image count as corrupt (skipped): sharp's `failOn`.
     * error (default): what can't be decoded, truncated files included; images decoded with
     * a warning (libjpeg's "extraneous bytes before marker") are kept, as PIL keeps them,
     * and counted apart. warning: those too are skipped. truncated, none: more lenient.
     */
    fail_on: z.enum(['warning', 'error', 'truncated', 'none']).default('error'),
    /** tfrecord: verify both CRC32Cs of every record. */
    verify_crc: z.boolean().default(true),
    /** webdataset/tfrecord train: samples held in the shuffle buffer (after shard-level shuffle). */
    shuffle_buffer: z.number().int().min(0).default(2000),
    /** Decode threads (worker_threads running sharp); 0 = decode on the main thread. auto: cores - 1. */
    workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
    /** Batches decoded ahead of the trainer. */
    prefetch: z.number().int().min(1).max(64).default(4),
    /** A folder written by `wtrain data prepare`; when it exists and matches, training reads it instead. */
    cache: pathString,
    train: splitSchema,
    val: splitSchema,
  })
  .superRefine((cfg, ctx) => {
    if (cfg.rrc_scale[0] > cfg.rrc_scale[1]) {
      ctx.addIssue({ code: 'custom', path: ['rrc_scale'], message: 'expected [min, max] with min <= max' });
    }
    if (cfg.rrc_ratio[0] > cfg.rrc_ratio[1]) {
      ctx.addIssue({ code: 'custom', path: ['rrc_ratio'], message: 'expected [min, max] with min <= max' });
    }
    if (
      (cfg.mean === null) !== (cfg.std === null) ||
      (cfg.mean && cfg.std && cfg.mean.length !== cfg.std.length)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['std'],
        message: 'expected mean and std together, of equal length',
      });
    }
  });

export type DataConfig = z.infer<typeof dataConfigSchema>;
export type DataSplitConfig = DataConfig['train'];

export const PATH_KEYS = ['path', 'val_path', 'val_labels', 'devkit_meta', 'cache'] as const;

/**
 * A copy of `cfg` with every path made absolute against `baseDir` (the config file's
 * folder), or against a folder per key (where each path was written).
 */
export function resolveDataPaths(
  cfg: DataConfig,
  baseDir: string | Partial<Record<(typeof PATH_KEYS)[number], string>>,
): DataConfig {
  const out = { ...cfg };
  for (const key of PATH_KEYS) {
    const p = cfg[key];
    const base = typeof baseDir === 'string' ? baseDir : baseDir[key];
    if (p !== null && base !== undefined) out[key] = path.resolve(base, p);
  }
  return out;
}

/** The source split a run split reads (`test` is an alias of `val`). */
export function sourceSplitOf(split: 'train' | 'val', cfg: DataConfig): 'train' | 'val' {
  const from = cfg[split].from ?? split;
  return from === 'test' ? 'val' : from;
}
