/**
 * The subset of TensorFlow's `Event`/`Summary`/`SessionLog` protos TensorBoard needs
 * for scalars. Field numbers as in the official tensorflow/core/util/event.proto and
 * tensorflow/core/framework/summary.proto (the other members of Event's `what` oneof
 * are listed so that no number is taken twice; test/runner/tensorboard-official.test.ts
 * checks the bytes against the official messages).
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
    bytes graph_def = 4;
    Summary summary = 5;
    LogMessage log_message = 6;
    SessionLog session_log = 7;
  }
}
message LogMessage {
  int32 level = 1;
  string message = 2;
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

/** SessionLog.SessionStatus.START: TensorBoard drops what it has read at this event's step and later. */
export const SESSION_START = 1;

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
  else if (e.sessionStart) msg.session_log = { status: SESSION_START };
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
