/**
 * MNIST and Fashion-MNIST: the official idx files (gzipped or not), 28x28 greyscale.
 * Source split `train` = `train-*`, `val` = `t10k-*` (the official test set).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DataError, where } from '../errors.js';
import { readIdx } from '../formats/idx.js';
import type { DataSource, IndexedSplit, SourceContext } from './source.js';
import { labelRangeMessage } from './source.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const VARIANTS = {
  mnist: {
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    mean: [0.1307],
    std: [0.3081],
  },
  fashion_mnist: {
    classNames: [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ],
    mean: [0.286],
    std: [0.353],
  },
};

/** The file of `prefix-kind` in dir: `train-images-idx3-ubyte[.gz]`, also `train-images.idx3-ubyte`. */
function findIdx(dir: string, prefix: 'train' | 't10k', kind: 'images-idx3' | 'labels-idx1'): string {
  const [what, idx] = kind.split('-');
  const re = new RegExp(`^${prefix}-${what}[-.]${idx}-ubyte(\\.gz)?$`);
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)) : [];
  if (names.length === 0) {
    throw new DataError(`${dir}: no ${prefix}-${what}-${idx}-ubyte[.gz] (the MNIST idx files) found there`);
  }
  return path.join(dir, names.sort()[0]);
}

async function loadSplit(dir: string, prefix: 'train' | 't10k', numClasses: number): Promise<IndexedSplit> {
  const imagesFile = findIdx(dir, prefix, 'images-idx3');
  const labelsFile = findIdx(dir, prefix, 'labels-idx1');
  const [images, labels] = await Promise.all([readIdx(imagesFile), readIdx(labelsFile)]);
  if (images.dims.length !== 3)
    throw new DataError(`${imagesFile}: expected 3 dims (n, rows, cols), got ${images.dims.length}`);
  if (labels.dims.length !== 1)
    throw new DataError(`${labelsFile}: expected 1 dim (n), got ${labels.dims.length}`);
  const [n, rows, cols] = images.dims;
  if (labels.dims[0] !== n) {
    throw new DataError(`${labelsFile} has ${labels.dims[0]} labels but ${imagesFile} has ${n} images`);
  }
  const bad = labels.data.findIndex((l) => l >= numClasses);
  if (bad >= 0)
    throw new DataError(labelRangeMessage(labels.data[bad], numClasses, where(labelsFile, { record: bad })));
  const per = rows * cols;
  return {
    kind: 'indexed',
    size: n,
    ref: (i) => ({
      label: labels.data[i],
      where: where(imagesFile, { record: i }),
      bytes: images.data.subarray(i * per, (i + 1) * per),
      raw: { width: cols, height: rows, channels: 1 },
    }),
  };
}

export async function openMnist(ctx: SourceContext, variant: 'mnist' | 'fashion_mnist'): Promise<DataSource> {
  const dir = ctx.cfg.path ?? (variant === 'fashion_mnist' ? FASHION_MNIST_DIR : null);
  if (!dir) throw new DataError(`data.path: required for source ${variant} (the folder of the idx files)`);
  if (!existsSync(dir)) {
    const hint =
      variant === 'fashion_mnist' ? ' (apt-get install dataset-fashion-mnist installs it there)' : '';
    throw new DataError(`data.path: ${dir} does not exist${hint}`);
  }
  const v = VARIANTS[variant];
  const splits = new Map<string, Promise<IndexedSplit>>();
  return {
    name: variant,
    classNames: v.classNames,
    mean: v.mean,
    std: v.std,
    channels: 1,
    nativeSize: 28,
    defaultAugment: 'none',
    defaults: { imageSize: 28 },
    evalGeometry: 'stretch',
    split(name) {
      if (!splits.has(name)) splits.set(name, loadSplit(dir, name === 'train' ? 'train' : 't10k', 10));
      return splits.get(name)!;
    },
    async close() {},
  };
}
