/**
 * `tf.train.Example` (tensorflow/core/example/{example,feature}.proto) through protobufjs,
 * and the two image-classification key sets met in the wild:
 * - tfds (`imagenet2012` and the other image datasets): `image` (encoded), `label`
 *   (a ClassLabel: 0-based by tfds' spec);
 * - TF-slim's `image_to_tfexample` and the converters that share its keys (TPU
 *   `imagenet_to_gcs.py`, Inception `build_imagenet_data.py`): `image/encoded`,
 *   `image/class/label`, 0-based in TF-slim, 1-based in the other two: see
 *   ../sources/label-base.ts for how the base is decided.
 */
import protobuf from 'protobufjs';

const descriptor: protobuf.INamespace = {
  nested: {
    Example: { fields: { features: { type: 'Features', id: 1 } } },
    Features: { fields: { feature: { keyType: 'string', type: 'Feature', id: 1 } } },
    Feature: {
      oneofs: { kind: { oneof: ['bytesList', 'floatList', 'int64List'] } },
      fields: {
        bytesList: { type: 'BytesList', id: 1 },
        floatList: { type: 'FloatList', id: 2 },
        int64List: { type: 'Int64List', id: 3 },
      },
    },
    BytesList: { fields: { value: { rule: 'repeated', type: 'bytes', id: 1 } } },
    FloatList: { fields: { value: { rule: 'repeated', type: 'float', id: 1, options: { packed: true } } } },
    Int64List: { fields: { value: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
  },
} as Record<string, any>;
const root = protobuf.Root.fromJSON(descriptor);
const ExampleType = root.lookupType('Example');

type Int64 = number | { toNumber(): number };
interface FeatureMsg {
  bytesList?: { value: Uint8Array[] };
  floatList?: { value: number[] };
  int64List?: { value: Int64[] };
}

/** A feature value to encode: bytes/strings → bytes_list, integers → int64_list, other numbers → float_list. */
export type FeatureValue = Uint8Array | string | number | number[];

export function encodeExample(features: Record<string, FeatureValue>): Uint8Array {
  const feature: Record<string, FeatureMsg> = {};
  for (const [key, v] of Object.entries(features)) {
    if (typeof v === 'string') feature[key] = { bytesList: { value: [Buffer.from(v)] } };
    else if (v instanceof Uint8Array) feature[key] = { bytesList: { value: [v] } };
    else {
      const list = Array.isArray(v) ? v : [v];
      feature[key] = list.every(Number.isInteger)
        ? { int64List: { value: list } }
        : { floatList: { value: list } };
    }
  }
  return ExampleType.encode(ExampleType.fromObject({ features: { feature } })).finish();
}

export type ListKind = 'bytesList' | 'floatList' | 'int64List';

/** What a record holds under one key (to explain a skip): absent, a feature with no list, or a list of n values. */
export type FeatureShape = null | { list: ListKind | null; values: number };

/** The key sets read: image key, label key, and how messages name them. */
export const KEY_SETS = {
  tfds: { image: 'image', label: 'label', name: 'tfds keys' },
  tpu: { image: 'image/encoded', label: 'image/class/label', name: 'TF-slim/TPU keys' },
} as const;

export interface ImageExample {
  image?: Uint8Array;
  /** The stored label, before the label base is subtracted. */
  label?: number;
  /**
   * Which key set the record uses (the TF-slim/TPU one when any of its keys is there);
   * null when it has neither set's image nor label key.
   */
  keys: keyof typeof KEY_SETS | null;
  /** What the image and label keys hold, whatever their type. */
  shapes: { image: FeatureShape; label: FeatureShape };
  /** Every key of the record with what it holds (`image_floats (float_list)`), for messages. */
  found: string[];
}

function shapeOf(f: FeatureMsg | undefined): FeatureShape {
  if (!f) return null;
  const list = (['bytesList', 'floatList', 'int64List'] as const).find((k) => f[k] != null) ?? null; // unset message fields decode as null
  return { list, values: list ? (f[list]?.value?.length ?? 0) : 0 };
}

const toNumber = (v: Int64): number => (typeof v === 'number' ? v : v.toNumber());

const LIST_WORDS: Record<ListKind, string> = {
  bytesList: 'bytes_list',
  floatList: 'float_list',
  int64List: 'int64_list',
};

/** Image bytes and label of an image-classification Example (either key set). Throws on malformed protobuf. */
export function decodeImageExample(data: Uint8Array): ImageExample {
  const msg = ExampleType.decode(data) as unknown as { features?: { feature?: Record<string, FeatureMsg> } };
  const f = msg.features?.feature ?? {};
  const has = (set: keyof typeof KEY_SETS) =>
    f[KEY_SETS[set].image] !== undefined || f[KEY_SETS[set].label] !== undefined;
  const keys = has('tpu') ? 'tpu' : has('tfds') ? 'tfds' : null;
  const set = KEY_SETS[keys ?? 'tfds'];
  const image = f[set.image]?.bytesList?.value?.[0];
  const labels = f[set.label]?.int64List?.value;
  const found = Object.keys(f)
    .sort()
    .map((k) => {
      const list = shapeOf(f[k])?.list;
      return `${k} (${list ? LIST_WORDS[list] : 'empty'})`;
    });
  return {
    image: image && image.length > 0 ? image : undefined,
    label: labels && labels.length > 0 ? toNumber(labels[0]) : undefined,
    keys,
    shapes: { image: shapeOf(f[set.image]), label: shapeOf(f[set.label]) },
    found,
  };
}
