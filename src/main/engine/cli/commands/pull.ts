// `embedsmith pull ORG/NAME[@REVISION] [--out DIR] [--all] [--offline]` (DESIGN §6): download a
// model into the shared Hugging Face cache and print its folder; --out also copies it to DIR
// as plain files (the cache holds symlinks into its blob store).
import { cp } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EngineError } from '../../../../shared/errors.js';
import { pullModel } from '../../model/hub.js';

type Out = { log: (s: string) => void; error: (s: string) => void };

const USAGE = 'usage: embedsmith pull ORG/NAME[@REVISION] [--out DIR] [--all] [--offline]';

export async function pullCommand(args: string[], out: Out): Promise<number> {
  let values: { out?: string; all?: boolean; offline?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: { out: { type: 'string' }, all: { type: 'boolean' }, offline: { type: 'boolean' } }, allowPositionals: true, strict: true }));
  } catch (e) {
    out.error(`embedsmith pull: ${(e as Error).message}; ${USAGE}`);
    return 2;
  }
  if (positionals.length !== 1) {
    out.error(`embedsmith pull: give exactly one model id; ${USAGE}`);
    return 2;
  }
  let lastPct = -1;
  try {
    const r = await pullModel({
      repo: positionals[0],
      all: values.all,
      offline: values.offline || undefined,
      onProgress: (p) => {
        const pct = p.totalBytes > 0 ? Math.floor((100 * p.doneBytes) / p.totalBytes) : 100;
        if (pct === lastPct && p.fileBytes !== p.fileSize) return; // one line per percent
        lastPct = pct;
        out.error(`${pct}%  ${mb(p.doneBytes)}/${mb(p.totalBytes)} MB  file ${Math.min(p.filesDone + 1, p.filesTotal)}/${p.filesTotal} ${p.file}`);
      },
    });
    let dir = r.dir;
    if (values.out) {
      await cp(r.dir, values.out, { recursive: true, dereference: true, errorOnExist: true, force: false });
      dir = values.out;
    }
    out.log(`${r.repo}@${r.commit.slice(0, 12)} ${r.fromCache ? '(from the cache)' : `(${mb(r.downloadedBytes)} MB downloaded)`}: ${dir}`);
    return 0;
  } catch (e) {
    const err = e instanceof EngineError ? e : new EngineError('IO', (e as Error).message);
    out.error(`embedsmith pull: ${err.message}`);
    return err.code === 'BAD_INPUT' || err.code === 'NOT_FOUND' ? 2 : 1;
  }
}

const mb = (n: number) => (n / 1e6).toFixed(1);
