// Error codes that cross every boundary (worker, IPC, web bridge). The renderer switches on
// `code`; the message carries the values at fault and a fix (DESIGN §7).
export const ERROR_CODES = [
  'BAD_INPUT', // a setting, argument or file content is wrong: the message names it
  'NOT_FOUND', // a file, folder, project or job does not exist
  'ALREADY_EXISTS', // creating something over an existing one
  'LOCKED', // a project is open in another Embedsmith instance
  'SCHEMA', // a file on disk has a version or shape this build does not understand
  'IO', // the operating system refused a read or write
  'CANCELLED', // the user cancelled the job
  'UNSUPPORTED', // the capability is not available here (e.g. native dialogs in a browser)
  'HOST_CRASHED', // the engine host process died while the call was in flight
  'NOT_IMPLEMENTED', // the capability arrives with a later issue; the message says which
  'INTERNAL', // a bug: the message says what happened
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What crosses a process boundary: plain data, no prototype. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.details = details;
  }

  toData(): ErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Anything thrown, as data: non-engine errors become INTERNAL with their message kept. */
  static toData(err: unknown): ErrorData {
    if (err instanceof EngineError) return err.toData();
    if (isErrorData(err)) return err;
    const message = err instanceof Error ? err.message : String(err);
    return { code: 'INTERNAL', message };
  }

  static fromData(data: ErrorData): EngineError {
    return new EngineError(data.code, data.message, data.details);
  }
}

export function isErrorData(v: unknown): v is ErrorData {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.message === 'string' && (ERROR_CODES as readonly string[]).includes(o.code as string);
}

// Electron's contextBridge keeps only an Error's message when a promise rejects across it,
// so the preload packs the error data into the message and the renderer unpacks it.
const BRIDGED = '\u0000embedsmith-error:';

export function encodeBridgedError(data: ErrorData): string {
  return `${data.message}${BRIDGED}${JSON.stringify(data)}`;
}

/** The EngineError packed by encodeBridgedError, or an INTERNAL one for any other error. */
export function decodeBridgedError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf(BRIDGED);
  if (at >= 0) {
    try {
      const data: unknown = JSON.parse(message.slice(at + BRIDGED.length));
      if (isErrorData(data)) return EngineError.fromData(data);
    } catch {
      // fall through: keep the visible part of the message
    }
    return new EngineError('INTERNAL', message.slice(0, at));
  }
  return new EngineError('INTERNAL', message);
}
