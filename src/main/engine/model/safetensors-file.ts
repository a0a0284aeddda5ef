// Reading a safetensors file from disk without holding it in memory: the header first (8 bytes,
// then the JSON it announces, both checked against the file's size), then each tensor by
// positioned reads when it is wanted. A 2.3 GB file (multilingual-e5-large ships one) loads
// with one chunk of extra memory beyond the float32 parameters themselves, files past 2 GiB
// (one Buffer's old limit, and fs.read's per-call one) work, and a bad header fails after
// reading a few bytes instead of the whole file.
import { open, type FileHandle } from 'node:fs/promises';
import { numel } from '../graph/dtype.js';
import { ioError } from '../workspace/fs-errors.js';
import { badSafetensors, DTYPE_BYTES, headerLength, parseHeader, widenInto, type SafeTensor, type SafetensorsHeader, type TensorEntry } from './safetensors.js';

/** Bytes converted per read when a tensor is widened (F16, BF16, F64); F32 reads straight into place. */
const CHUNK = 16 * 1024 * 1024;
/** fs.read takes at most 2^31 - 1 bytes per call. */
const MAX_READ = 1024 * 1024 * 1024;

export interface SafetensorsSource extends SafetensorsHeader {
  file: string;
  /** File offset of the first data byte (8 + header length). */
  dataStart: number;
  size: number;
  handle: FileHandle;
}

/** Opens `file` and reads and checks its header; the caller closes `handle`. Throws the raw OS error on open (callers tell a missing file apart). */
export async function openSafetensors(file: string): Promise<SafetensorsSource> {
  const handle = await open(file, 'r');
  try {
    const st = await handle.stat().catch((e: unknown) => Promise.reject(ioError(e, file, 'read')));
    // Opening a folder succeeds on POSIX; answer as fs.readFile would, so callers treat it as absent.
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${file}'`), { code: 'EISDIR' });
    const size = st.size;
    const first = new Uint8Array(9);
    await readExactly(handle, first, 0, Math.min(9, size), file);
    const n = headerLength(first, size, file);
    // Every header is a JSON object: a file that does not start with '{' fails here, before
    // a possibly huge header length is read.
    if (n === 0 || first[8] !== 0x7b) throw badSafetensors(file, `its header does not start with '{' (a JSON object); it is not a safetensors file`);
    const json = new Uint8Array(n);
    await readExactly(handle, json, 8, n, file);
    const header = parseHeader(json, size - 8 - n, file);
    return { ...header, file, dataStart: 8 + n, size, handle };
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
}

/** A tensor's raw bytes (for tensors kept unchanged, e.g. the pooler). */
export async function readTensorBytes(src: SafetensorsSource, entry: TensorEntry): Promise<SafeTensor> {
  const bytes = new Uint8Array(entry.end - entry.begin);
  await readExactly(src.handle, bytes, src.dataStart + entry.begin, bytes.byteLength, src.file);
  return { dtype: entry.dtype, shape: entry.shape, bytes };
}

/** A floating-point tensor as float32, read and widened chunk by chunk. */
export async function readTensorFloat32(src: SafetensorsSource, entry: TensorEntry, name: string): Promise<Float32Array> {
  const out = new Float32Array(numel(entry.shape));
  const at = src.dataStart + entry.begin;
  const total = entry.end - entry.begin;
  if (entry.dtype === 'F32') {
    await readExactly(src.handle, new Uint8Array(out.buffer), at, total, src.file);
    return out;
  }
  const width = DTYPE_BYTES[entry.dtype];
  const chunk = new Uint8Array(Math.min(CHUNK - (CHUNK % width), total));
  for (let done = 0; done < total; ) {
    const n = Math.min(chunk.byteLength, total - done);
    const part = chunk.subarray(0, n);
    await readExactly(src.handle, part, at + done, n, src.file);
    widenInto(out, done / width, part, entry.dtype, name);
    done += n;
  }
  return out;
}

/** Fills `into[0, length)` from `position`; a short file (changed since its header was read) is an error. */
async function readExactly(handle: FileHandle, into: Uint8Array, position: number, length: number, file: string): Promise<void> {
  for (let got = 0; got < length; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(into, got, Math.min(length - got, MAX_READ), position + got));
    } catch (e) {
      throw ioError(e, file, 'read');
    }
    if (bytesRead === 0) throw badSafetensors(file, `it ended at byte ${position + got}, before the ${length} bytes at ${position} its header promises (was it truncated or changed while loading?)`);
    got += bytesRead;
  }
}
