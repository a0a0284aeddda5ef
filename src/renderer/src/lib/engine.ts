// The one place that decides how the UI reaches the engine (DESIGN §2): the Electron preload
// puts exactly an EngineApi on `window.engine`; in a plain browser the page was served by
// `embedsmith serve` and talks to it over the web bridge.
import {
  createEngineProxy,
  decodeBridgedError,
  type EngineApi,
  type EngineEvent,
  type EngineMethod,
  type EngineTransport,
} from '../../../shared/api.js';
import { connectBridge, type BridgeConnection } from './bridge-client.js';

export type { BridgeConnection, ConnectionState } from './bridge-client.js';

export interface PickedEngine {
  engine: EngineApi;
  /** The bridge's connection, or null in Electron where IPC has no connection to lose. */
  connection: BridgeConnection | null;
}

export function pickEngine(win: Window = window): PickedEngine {
  if (win.engine) return { engine: fromPreload(win.engine), connection: null };
  return connectBridge();
}

/**
 * contextBridge keeps only an Error's message, so the preload packs the error's code into it
 * (encodeBridgedError). Re-proxying the preload's API unpacks it, and the UI sees real
 * EngineErrors with their code whichever way the engine is reached.
 */
export function fromPreload(preload: EngineApi): EngineApi {
  const methods = preload as unknown as Record<EngineMethod | EngineEvent, (...args: unknown[]) => unknown>;
  const transport: EngineTransport = {
    async call(method, args) {
      try {
        return { ok: true, value: await methods[method](...args) };
      } catch (err) {
        return { ok: false, error: decodeBridgedError(err).toData() };
      }
    },
    subscribe: (event, listener) => methods[event](listener) as () => void,
  };
  return createEngineProxy(transport);
}
