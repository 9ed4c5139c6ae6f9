/**
 * `tf.train.Example` (tensorflow/core/example/{example,feature}.proto) through protobufjs,
 * and the two ImageNet key sets met in the wild:
 * - tfds `imagenet2012`: `image` (encoded JPEG), `label` (0-based);
 * - the TPU `imagenet_to_gcs.py` converter: `image/encoded`, `image/class/label` (1-based).
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

export interface ImageExample {
  image?: Uint8Array;
  /** The stored label, before `labelBase` is subtracted. */
  label?: number;
  /** Which key set the record uses: 'tpu' labels are 1-based. */
  keys: 'tfds' | 'tpu';
  /** What the image and label keys hold, whatever their type. */
  shapes: { image: FeatureShape; label: FeatureShape };
}

function shapeOf(f: FeatureMsg | undefined): FeatureShape {
  if (!f) return null;
  const list = (['bytesList', 'floatList', 'int64List'] as const).find((k) => f[k] != null) ?? null; // unset message fields decode as null
  return { list, values: list ? (f[list]?.value?.length ?? 0) : 0 };
}

const toNumber = (v: Int64): number => (typeof v === 'number' ? v : v.toNumber());

/** Image bytes and label of an ImageNet-style Example (either key set). Throws on malformed protobuf. */
export function decodeImageExample(data: Uint8Array): ImageExample {
  const msg = ExampleType.decode(data) as unknown as { features?: { feature?: Record<string, FeatureMsg> } };
  const f = msg.features?.feature ?? {};
  const tpu = f['image/encoded'] !== undefined || f['image/class/label'] !== undefined;
  const imageKey = tpu ? 'image/encoded' : 'image';
  const labelKey = tpu ? 'image/class/label' : 'label';
  const image = f[imageKey]?.bytesList?.value?.[0];
  const labels = f[labelKey]?.int64List?.value;
  return {
    image: image && image.length > 0 ? image : undefined,
    label: labels && labels.length > 0 ? toNumber(labels[0]) : undefined,
    keys: tpu ? 'tpu' : 'tfds',
    shapes: { image: shapeOf(f[imageKey]), label: shapeOf(f[labelKey]) },
  };
}
