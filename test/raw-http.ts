// Raw TCP helpers for the web bridge's hostile-input tests: requests and WebSocket frames
// written byte by byte, as an attacker would, with no client library in between to tidy them.
import { connect, type Socket } from 'node:net';

export interface RawReply {
  /** Everything the server sent before closing or going quiet. */
  data: Buffer;
  /** The HTTP status of the first response line, or null when none came. */
  status: number | null;
  closed: boolean;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function statusOf(data: Buffer): number | null {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 32).toString('latin1'));
  return m ? Number(m[1]) : null;
}

/** Writes `bytes`, then collects the reply until the server closes or sends nothing for `idleMs`. */
export function rawExchange(port: number, bytes: Buffer | string, idleMs = 400): Promise<RawReply> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, status: statusOf(data), closed });
    };
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    };
    sock.on('error', () => undefined); // a reset is a kind of answer here; 'close' follows
    sock.on('close', () => finish(true));
    sock.on('data', (d) => (chunks.push(d), idle()));
    sock.on('connect', () => (sock.write(bytes), idle()));
  });
}

export function upgradeRequest(path: string, extraHeaders: string[] = []): string {
  return [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', ...extraHeaders, '', ''].join('\r\n');
}

/** A WebSocket frame as a client sends it (masked unless told otherwise). */
export function frame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: boolean; length?: number } = {}): Buffer {
  const length = o.length ?? payload.length;
  const mask = o.mask ?? true;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const m = mask ? 0x80 : 0;
  if (length < 126) head.push(m | length);
  else if (length < 65536) head.push(m | 126, length >> 8, length & 0xff);
  else {
    head.push(m | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (mask) head.push(...key);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), body]);
}

/** The first close code in the frames a server sent after its handshake, or null. */
export function serverCloseCode(data: Buffer): number | null {
  const end = data.indexOf('\r\n\r\n');
  let at = end < 0 ? 0 : end + 4;
  while (at + 2 <= data.length) {
    const opcode = data[at] & 0x0f;
    let len = data[at + 1] & 0x7f;
    let p = at + 2;
    if (len === 126) {
      len = data.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(p));
      p += 8;
    }
    if (opcode === 0x8) return len >= 2 && p + 2 <= data.length ? data.readUInt16BE(p) : 1005;
    at = p + len;
  }
  return null;
}

/**
 * Opens a raw WebSocket (or tries to), sends `frames`, and streams `stream` bytes of filler
 * after them until the server stops reading; answers what the server said.
 */
export function rawWebSocket(port: number, path: string, frames: Buffer[], o: { headers?: string[]; stream?: number; idleMs?: number } = {}): Promise<RawReply & { closeCode: number | null }> {
  return new Promise((resolve) => {
    const sock: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, status: statusOf(data), closed, closeCode: serverCloseCode(data) });
    };
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), o.idleMs ?? 400);
    };
    sock.on('error', () => undefined);
    sock.on('close', () => finish(true));
    let sentFrames = false;
    sock.on('data', (d) => {
      chunks.push(d);
      idle();
      if (!sentFrames && Buffer.concat(chunks).includes('\r\n\r\n')) {
        sentFrames = true;
        for (const f of frames) sock.write(f);
        void pump(o.stream ?? 0);
      }
    });
    sock.on('connect', () => (sock.write(upgradeRequest(path, o.headers)), idle()));
    async function pump(left: number): Promise<void> {
      const chunk = Buffer.alloc(1 << 20, 0x5a);
      while (left > 0 && !done && !sock.destroyed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          await new Promise<void>((r) => {
            sock.once('drain', r);
            sock.once('close', r);
          });
        }
        idle();
      }
    }
  });
}
