// `embedsmith demo [--workspace DIR] [--device auto|cpu|webgpu|cuda] [--precision …] [--epochs N]` (DESIGN §6):
// the whole pipeline on the bundled demo (demo/pipeline.ts), printing each stage and the
// metrics before and after. Exit 1 if nDCG@10 on the held-out queries did not rise.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEMO_STAGES, PROJECT_SCHEMA_VERSION } from '../../../../shared/api.js';
import { runDemoPipeline } from '../../demo/pipeline.js';
import { defaultStateDir } from '../../host/engine-service.js';
import { RecentProjects } from '../../workspace/index.js';
import type { DevicePref } from '../../runtime/index.js';
import { type Out, UsageError, parseOptions, precisionOption, reportError } from './common.js';

export const DEMO_USAGE = 'usage: embedsmith demo [--workspace DIR] [--device auto|cpu|webgpu|cuda] [--precision fp32|fp16|auto] [--epochs N]';

const SHOWN = ['ndcg@10', 'mrr@10', 'map@100', 'recall@1', 'recall@10', 'similarity_auc'];

export async function demoCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  try {
    const v = parseOptions(args, { workspace: { type: 'string' }, device: { type: 'string' }, precision: { type: 'string' }, epochs: { type: 'string' } });
    const precision = precisionOption(v.precision);
    const device = (v.device ?? 'auto') as DevicePref;
    if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(device)) throw new UsageError(`--device must be auto, cpu, webgpu or cuda, got '${device}'`);
    const epochs = v.epochs === undefined ? 4 : Number(v.epochs);
    if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError(`--epochs must be a positive integer, got '${v.epochs}'`);
    process.once('SIGINT', onSigint);
    const t0 = Date.now();
    const say = (s: string) => out.error(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}`);
    let last = 0;
    const r = await runDemoPipeline({
      // The app's demo folder by default, so `npm start` finds this project in its recent list.
      workspace: v.workspace ?? join(homedir(), 'Embedsmith', 'Embedsmith demo'), device, precision, epochs, signal: ctl.signal, log: say,
      onProgress: (_d, _t, message) => {
        // Training reports every step: at most one line in 3 s of it.
        if (!message.startsWith(DEMO_STAGES[3]) || Date.now() - last > 3000) {
          last = Date.now();
          say(message);
        }
      },
    });
    out.log('\nHeld-out web-features queries (feature name → its description among all descriptions):');
    out.log(`${'metric'.padEnd(16)}${'before'.padStart(10)}${'after'.padStart(10)}${'change'.padStart(10)}`);
    for (const k of SHOWN) {
      const b = r.before[k];
      const a = r.after[k];
      if (b === undefined || a === undefined) continue;
      out.log(`${k.padEnd(16)}${b.toFixed(4).padStart(10)}${a.toFixed(4).padStart(10)}${((a - b >= 0 ? '+' : '') + (a - b).toFixed(4)).padStart(10)}`);
    }
    await new RecentProjects(join(defaultStateDir(), 'recent.json')).touch({ dir: r.workspace, name: 'Embedsmith demo', schemaVersion: PROJECT_SCHEMA_VERSION, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
    out.log(`\n${r.queries} queries, ${r.documents} documents; ${r.steps} training steps on ${r.device} (${r.deviceReason}) in ${r.seconds.toFixed(0)} s total. Project: ${r.workspace}`);
    if (!(r.after['ndcg@10'] > r.before['ndcg@10'])) {
      out.error('embedsmith demo: nDCG@10 did not rise on the held-out queries — this is a bug in the demo recipe; please report it');
      return 1;
    }
    return 0;
  } catch (err) {
    return reportError('demo', DEMO_USAGE, err, out);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
