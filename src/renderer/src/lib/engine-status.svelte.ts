// What the status bar shows about the engine: its info (host, version, dialogs, default
// folder) and, behind the web bridge, whether the connection is up.
import { EngineError, type EngineApi, type EngineInfo, type ErrorData } from '../../../shared/api.js';
import type { BridgeConnection, ConnectionState } from './bridge-client.js';

export class EngineStatus {
  #engine: EngineApi;
  #info = $state.raw<EngineInfo | null>(null);
  #error = $state.raw<ErrorData | null>(null);
  #connection = $state<ConnectionState | null>(null);
  #unsubscribe: (() => void) | null = null;

  /** `onReconnect` runs after the bridge comes back, so views reload what they may have missed. */
  constructor(engine: EngineApi, connection: BridgeConnection | null, onReconnect?: () => void) {
    this.#engine = engine;
    if (connection) {
      this.#connection = connection.state;
      this.#unsubscribe = connection.onState((state) => {
        const wasDown = this.#connection === 'reconnecting';
        this.#connection = state;
        if (state === 'open' && wasDown) void this.load().then((ok) => ok && onReconnect?.());
      });
    }
  }

  get info(): EngineInfo | null {
    return this.#info;
  }
  get error(): ErrorData | null {
    return this.#error;
  }
  /** Null in Electron, where there is no connection to lose. */
  get connection(): ConnectionState | null {
    return this.#connection;
  }

  async load(): Promise<boolean> {
    try {
      this.#info = await this.#engine.getEngineInfo();
      this.#error = null;
      return true;
    } catch (err) {
      this.#error = EngineError.toData(err);
      return false;
    }
  }

  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }
}
