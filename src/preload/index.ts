// Preload: exposes `window.engine` (an EngineApi) and nothing else (STYLE §2–3).
// contextBridge copies only an Error's message, so a failure's code travels inside the
// message as a tagged JSON suffix that the renderer's engine module turns back into an
// EngineError (see encodeBridgedError).
import { contextBridge, ipcRenderer } from 'electron';
import { createEngineProxy, encodeBridgedError, type CallResult, type EngineEvent } from '../shared/api.js';

const engine = createEngineProxy({
  call: async (method, args) => {
    const r = (await ipcRenderer.invoke('engine:call', method, args)) as CallResult;
    if (!r.ok) throw new Error(encodeBridgedError(r.error));
    return r;
  },
  subscribe: (event: EngineEvent, listener) => {
    const handler = (_e: unknown, name: unknown, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on('engine:event', handler);
    return () => void ipcRenderer.removeListener('engine:event', handler);
  },
});

contextBridge.exposeInMainWorld('engine', engine);
