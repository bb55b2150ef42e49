// The binary video packets nextVideoFrame answers with:
// byte 0 the stream, bytes 1–2 the width and 3–4 the height (u16 little
// endian), then width × height × 4 bytes of RGBA. An empty packet means no new frame.

import type { VideoStream } from "../core";

/** The stream's byte at the head of a packet, as the core writes it. */
export const STREAM_BYTE: Record<VideoStream, number> = { remote: 0, local: 1 };

export const HEADER_BYTES = 5;

export interface VideoFrame {
  stream: VideoStream;
  width: number;
  height: number;
  /** A view over the packet's pixels (no copy), width × height × 4 bytes. */
  rgba: Uint8ClampedArray;
}

/** Read a packet (an ArrayBuffer at runtime; a typed array or a number array in tests); null when malformed. */
export function parseVideoPacket(packet: ArrayBuffer | ArrayBufferView | readonly number[]): VideoFrame | null {
  let bytes: Uint8Array;
  if (packet instanceof ArrayBuffer) bytes = new Uint8Array(packet);
  else if (ArrayBuffer.isView(packet)) bytes = new Uint8Array(packet.buffer, packet.byteOffset, packet.byteLength);
  else bytes = Uint8Array.from(packet);
  if (bytes.byteLength < HEADER_BYTES) return null;
  const stream = streamOfByte(bytes[0]);
  const width = (bytes[1] ?? 0) | ((bytes[2] ?? 0) << 8);
  const height = (bytes[3] ?? 0) | ((bytes[4] ?? 0) << 8);
  const size = width * height * 4;
  if (stream === null || width === 0 || height === 0 || bytes.byteLength < HEADER_BYTES + size) return null;
  const rgba = new Uint8ClampedArray(bytes.buffer, bytes.byteOffset + HEADER_BYTES, size);
  return { stream, width, height, rgba };
}

function streamOfByte(byte: number | undefined): VideoStream | null {
  if (byte === STREAM_BYTE.remote) return "remote";
  if (byte === STREAM_BYTE.local) return "local";
  return null;
}
