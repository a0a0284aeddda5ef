// Entry of the engine host: a worker thread (desktop app, web bridge) that owns the
// EngineService, so long synchronous work (session.run blocks for a whole step, DESIGN §3)
// never freezes the UI thread. Speaks WireRequest/WireMessage over its parent port.
import { parentPort, workerData } from 'node:worker_threads';
import { dispatchCall, ENGINE_EVENTS, type WireMessage, type WireRequest } from '../../../shared/api.js';
import { createEngineService, type EngineServiceOptions } from './engine-service.js';

const port = parentPort;
if (!port) throw new Error('host-worker.js must run as a worker thread (see engine-host.ts)');

const service = createEngineService(workerData as EngineServiceOptions);
const post = (m: WireMessage) => port.postMessage(m);

for (const event of ENGINE_EVENTS) {
  service[event]((payload) => post({ type: 'event', event, payload }));
}

/** What the host sends: calls, and a shutdown that releases project locks first. */
export type HostRequest = WireRequest | { type: 'shutdown' };

port.on('message', (req: HostRequest) => {
  if (req?.type === 'shutdown') {
    void service.dispose().finally(() => process.exit(0));
    return;
  }
  if (req?.type !== 'call') return;
  void dispatchCall(service, req.method, req.args).then((r) => post({ type: 'result', id: req.id, ...r }));
});
