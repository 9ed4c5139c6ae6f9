/**
 * The subset of TensorFlow's `Event`/`Summary`/`SessionLog` protos TensorBoard needs
 * for scalars (field numbers from tensorflow/core/util/event.proto and
 * tensorflow/core/framework/summary.proto).
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package tensorflow;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
    SessionLog session_log = 6;
  }
}
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value { float simple_value = 2; }
  }
  repeated Value value = 1;
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
export const EventType = root.lookupType('tensorflow.Event');

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: { tag: string; value: number }[];
  sessionStatus?: number;
}

export function encodeEvent(e: {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: { tag: string; value: number }[];
  sessionStart?: boolean;
}): Uint8Array {
  const msg: Record<string, unknown> = { wall_time: e.wallTime, step: e.step };
  if (e.fileVersion !== undefined) msg.file_version = e.fileVersion;
  else if (e.sessionStart) msg.session_log = { status: 1 };
  else msg.summary = { value: (e.scalars ?? []).map((s) => ({ tag: s.tag, simple_value: s.value })) };
  return EventType.encode(EventType.fromObject(msg)).finish();
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const o = EventType.toObject(EventType.decode(bytes), { longs: Number, enums: Number }) as any;
  return {
    wallTime: o.wall_time ?? 0,
    step: o.step ?? 0,
    fileVersion: o.file_version,
    scalars: (o.summary?.value ?? []).map((v: any) => ({ tag: v.tag, value: v.simple_value })),
    sessionStatus: o.session_log?.status,
  };
}
