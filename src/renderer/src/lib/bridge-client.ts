// The browser side of the web bridge (`embedsmith serve`): EngineApi calls travel as WireRequest
// JSON over one WebSocket to `/api?token=…`; results and events come back as WireMessage JSON.
// It is only a transport; createEngineProxy turns it into the same EngineApi the preload gives.
import {
  createEngineProxy,
  isEngineEvent,
  isErrorData,
  type CallResult,
  type EngineApi,
  type EngineEvent,
  type EngineMethod,
  type EngineTransport,
  type ErrorData,
  type Unsubscribe,
  type WireRequest,
} from '../../../shared/api.js';

/** 'no-token' and 'refused' are final: the page must be opened again from the printed link. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'no-token' | 'refused' | 'closed';

export interface BridgeConnection {
  readonly state: ConnectionState;
  /** Calls `listener` on every change of state. */
  onState(listener: (state: ConnectionState) => void): Unsubscribe;
  /** Closes the socket for good (tests, page teardown). */
  close(): void;
}

/** The part of a WebSocket this client uses, so tests can hand in a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = new (url: string) => SocketLike;

export interface BridgeOptions {
  location?: Pick<Location, 'href' | 'host' | 'protocol'>;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  history?: Pick<History, 'replaceState' | 'state'>;
  WebSocket?: SocketFactory;
  /** Reconnect delays double from `initialMs` up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
}

export const TOKEN_KEY = 'embedsmith.token';
/** The close code `embedsmith serve` sends when the token is wrong. */
export const CLOSE_BAD_TOKEN = 4401;
const OPEN = 1; // WebSocket.OPEN; the fake has no static constants

const NO_TOKEN: ErrorData = {
  code: 'BAD_INPUT',
  message:
    'This page has no access token, so it cannot reach the Embedsmith engine. Open the full ' +
    'address that `embedsmith serve` printed (it ends in ?token=…).',
  details: { reason: 'token-missing' },
};
const REFUSED: ErrorData = {
  code: 'BAD_INPUT',
  message:
    'The Embedsmith server refused this page’s access token (a new one is made each time ' +
    '`embedsmith serve` starts). Open the address it printed most recently.',
  details: { reason: 'token-refused' },
};

/**
 * The token comes once in the page URL (`?token=`). It moves to sessionStorage and out of the
 * address bar — history, bookmarks and screenshots should not carry it — and a reload of the
 * same tab still finds it there.
 */
export function takeToken(
  location: Pick<Location, 'href'>,
  storage: Pick<Storage, 'getItem' | 'setItem'>,
  history: Pick<History, 'replaceState' | 'state'>,
): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      storage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage can be disabled; the token still works for this page load.
    }
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return storage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

class BridgeTransport implements EngineTransport, BridgeConnection {
  #url: string | null;
  #host: string;
  #Socket: SocketFactory;
  #storage: Pick<Storage, 'removeItem'>;
  #backoff: { initialMs: number; maxMs: number };
  #socket: SocketLike | null = null;
  #nextId = 1;
  /** Sent and awaiting their result. */
  #pending = new Map<number, (r: CallResult) => void>();
  /** Made while the socket was not open; sent on open. */
  #queue: { request: WireRequest; resolve: (r: CallResult) => void }[] = [];
  #events = new Map<EngineEvent, Set<(payload: unknown) => void>>();
  #stateListeners = new Set<(state: ConnectionState) => void>();
  #state: ConnectionState = 'connecting';
  /** Set once the connection can never work (no token, refused, closed): calls fail at once. */
  #fatal: ErrorData | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(token: string | null, o: Required<BridgeOptions>) {
    const scheme = o.location.protocol === 'https:' ? 'wss' : 'ws';
    this.#url = token ? `${scheme}://${o.location.host}/api?token=${encodeURIComponent(token)}` : null;
    this.#host = o.location.host;
    this.#Socket = o.WebSocket;
    this.#storage = o.storage;
    this.#backoff = o.backoff;
    if (this.#url) this.#connect();
    else this.#fail(NO_TOKEN, 'no-token');
  }

  get state(): ConnectionState {
    return this.#state;
  }

  onState(listener: (state: ConnectionState) => void): Unsubscribe {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  call(method: EngineMethod, args: unknown[]): Promise<CallResult> {
    if (this.#fatal) return Promise.resolve({ ok: false, error: this.#fatal });
    return new Promise((resolve) => {
      const request: WireRequest = { type: 'call', id: this.#nextId++, method, args };
      if (this.#socket?.readyState === OPEN) this.#send(request, resolve);
      else this.#queue.push({ request, resolve });
    });
  }

  subscribe(event: EngineEvent, listener: (payload: unknown) => void): Unsubscribe {
    let set = this.#events.get(event);
    if (!set) this.#events.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): void {
    this.#fail({ code: 'HOST_CRASHED', message: 'The connection to the Embedsmith server was closed by this page.' }, 'closed');
    this.#socket?.close(1000, 'closed by page');
  }

  #connect(): void {
    this.#timer = null;
    const socket = new this.#Socket(this.#url!);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.#setState('open');
      const queued = this.#queue.splice(0);
      for (const { request, resolve } of queued) this.#send(request, resolve);
    };
    socket.onmessage = (ev) => this.#receive(ev.data);
    socket.onerror = () => {}; // a close event always follows; that is where we act
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#fatal) return;
      if (ev.code === CLOSE_BAD_TOKEN) {
        // A stale token would be refused again on every reload; forget it.
        this.#storage.removeItem(TOKEN_KEY);
        this.#fail(REFUSED, 'refused');
        return;
      }
      this.#rejectAll({
        code: 'HOST_CRASHED',
        message:
          `Lost the connection to the Embedsmith server at ${this.#host} (close code ${ev.code}). ` +
          'It reconnects by itself; if it does not, check that `embedsmith serve` is still running and reload.',
        details: { closeCode: ev.code },
      });
      this.#setState('reconnecting');
      const delay = Math.min(this.#backoff.maxMs, this.#backoff.initialMs * 2 ** this.#attempt++);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }

  #send(request: WireRequest, resolve: (r: CallResult) => void): void {
    let text: string;
    try {
      text = JSON.stringify(request);
    } catch (err) {
      resolve({ ok: false, error: { code: 'BAD_INPUT', message: `arguments of ${request.method} cannot be sent as JSON: ${String(err)}` } });
      return;
    }
    this.#pending.set(request.id, resolve);
    this.#socket!.send(text);
  }

  #receive(data: unknown): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(data));
    } catch {
      console.warn('embedsmith bridge: ignoring a message that is not JSON', data);
      return;
    }
    if (msg?.type === 'result' && typeof msg.id === 'number') {
      const resolve = this.#pending.get(msg.id);
      if (!resolve) return; // already rejected by a close, or not ours
      this.#pending.delete(msg.id);
      if (msg.ok === true) resolve({ ok: true, value: msg.value });
      else if (isErrorData(msg.error)) resolve({ ok: false, error: msg.error });
      else resolve({ ok: false, error: { code: 'INTERNAL', message: `the server sent a malformed error: ${JSON.stringify(msg.error)}` } });
    } else if (msg?.type === 'event' && isEngineEvent(msg.event)) {
      for (const listener of this.#events.get(msg.event) ?? []) listener(msg.payload);
    }
  }

  #rejectAll(error: ErrorData): void {
    const waiting = [...this.#pending.values(), ...this.#queue.map((q) => q.resolve)];
    this.#pending.clear();
    this.#queue = [];
    for (const resolve of waiting) resolve({ ok: false, error });
  }

  #fail(error: ErrorData, state: ConnectionState): void {
    this.#fatal = error;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#rejectAll(error);
    this.#setState(state);
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }
}

/** Connects to the bridge serving this page; the EngineApi works as soon as it is returned. */
export function connectBridge(options: BridgeOptions = {}): { engine: EngineApi; connection: BridgeConnection } {
  const o: Required<BridgeOptions> = {
    location: options.location ?? window.location,
    storage: options.storage ?? window.sessionStorage,
    history: options.history ?? window.history,
    WebSocket: options.WebSocket ?? (window.WebSocket as unknown as SocketFactory),
    backoff: options.backoff ?? { initialMs: 250, maxMs: 5000 },
  };
  const transport = new BridgeTransport(takeToken(o.location, o.storage, o.history), o);
  return { engine: createEngineProxy(transport), connection: transport };
}
