// `embedsmith dataset …` (DESIGN §6): export, split, edits with undo (data/edits.ts), a
// retrieval set derived from pairs, and token counts against a model. Each sub-command
// parses its own options, so a flag meant for another one is a usage error, not ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { applyEdit, editHistory, readRow, redoEdit, undoLastEdit, type EditEntry, type EditRequest, type RowFields } from '../../data/edits.js';
import { deriveRetrievalSet } from '../../data/retrieval.js';
import { splitDataset } from '../../data/split.js';
import { exportDataset } from '../../data/store.js';
import { checkTokenLengths } from '../../data/token-lengths.js';
import { UsageError, reportError, type Out } from './common.js';
import { lengthCheckOption } from './import.js';

export const DATASET_USAGE = `Usage: embedsmith dataset export DATASET_DIR --out FILE.jsonl|FILE.csv
       embedsmith dataset split DATASET_DIR [--eval 0.1] [--seed 42]
       embedsmith dataset show DATASET_DIR N [N …]
       embedsmith dataset edit DATASET_DIR --add JSON | --change N JSON | --delete N | --relabel N LABEL
       embedsmith dataset undo DATASET_DIR
       embedsmith dataset redo DATASET_DIR
       embedsmith dataset history DATASET_DIR [--json]
       embedsmith dataset retrieval DATASET_DIR --out DIR [--split train|eval]
       embedsmith dataset check DATASET_DIR --model MODEL_DIR [--max-length N] [--template PRESET|SAVED_NAME]
  N is a row's index: 0-based in rows.jsonl order, kept when other rows are deleted; added rows get new ones.`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function rowIndex(what: string, s: string | undefined): number {
  if (s === undefined || !/^\d+$/.test(s)) throw new UsageError(`${what} takes a row index N (a whole number ≥ 0), got '${s ?? ''}'`);
  return Number(s);
}

function jsonObject(what: string, s: string | undefined): RowFields {
  let v: unknown;
  try {
    v = JSON.parse(s ?? '');
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${what} takes a JSON object such as '{"anchor": "…", "positive": "…"}', got '${s ?? ''}'`);
  return v as RowFields;
}

const describe = (e: EditEntry) => (e.op === 'undo' || e.op === 'redo' ? `${e.op} of #${e.target}` : `${e.op} row ${e.index}`);

export async function datasetCommand(args: string[], out: Out): Promise<number> {
  try {
    const [sub, ...rest] = args;
    const one = (positionals: string[], extra = 0) => {
      if (positionals.length < 1 || positionals.length > 1 + extra) throw new UsageError(`give exactly one DATASET_DIR${extra ? ' and the value' : ''} (got ${positionals.length} arguments)`);
      return positionals[0];
    };
    switch (sub) {
      case 'export': {
        const { values, positionals } = parse(rest, { out: { type: 'string' } });
        const dir = one(positionals);
        if (!values.out) throw new UsageError('--out FILE.jsonl|FILE.csv is required');
        const n = await exportDataset(dir, values.out);
        out.log(`Wrote ${n} rows to ${values.out}.`);
        return 0;
      }
      case 'split': {
        const { values, positionals } = parse(rest, { eval: { type: 'string', default: '0.1' }, seed: { type: 'string', default: '42' } });
        const dir = one(positionals);
        const evalFraction = Number(values.eval);
        const seed = Number(values.seed);
        if (!(evalFraction > 0 && evalFraction < 1)) throw new UsageError(`--eval must be a fraction between 0 and 1, got '${values.eval}'`);
        if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
        const s = await splitDataset(dir, { evalFraction, seed });
        out.log(`Split ${dir}: ${s.counts.train} train, ${s.counts.eval} eval rows (seed ${seed}); wrote split.json.`);
        return 0;
      }
      case 'show': {
        const { positionals } = parse(rest, {});
        if (positionals.length < 2) throw new UsageError('give DATASET_DIR and at least one row index N');
        for (const n of positionals.slice(1)) {
          const index = rowIndex('show', n);
          out.log(JSON.stringify({ index, ...(await readRow(positionals[0], index)) }));
        }
        return 0;
      }
      case 'edit': {
        const { values, positionals } = parse(rest, { add: { type: 'string' }, change: { type: 'string' }, delete: { type: 'string' }, relabel: { type: 'string' }, json: { type: 'boolean', default: false } });
        const given = (['add', 'change', 'delete', 'relabel'] as const).filter((k) => values[k] !== undefined);
        if (given.length !== 1) throw new UsageError(`give exactly one of --add, --change, --delete, --relabel (got ${given.length ? given.map((g) => `--${g}`).join(', ') : 'none'})`);
        const op = given[0];
        const needsValue = op === 'change' || op === 'relabel';
        const dir = one(positionals, needsValue ? 1 : 0);
        if (needsValue && positionals.length !== 2) throw new UsageError(op === 'change' ? `--change N takes the new fields as JSON after N, e.g. --change 5 '{"positive": "…"}'` : '--relabel N takes the new LABEL after N, e.g. --relabel 5 billing');
        const edit: EditRequest =
          op === 'add'
            ? { op, row: jsonObject('--add', values.add) }
            : op === 'change'
              ? { op, index: rowIndex('--change', values.change), fields: jsonObject('--change N', positionals[1]) }
              : op === 'delete'
                ? { op, index: rowIndex('--delete', values.delete) }
                : { op, index: rowIndex('--relabel', values.relabel), label: positionals[1] };
        const { entry, warnings } = await applyEdit(dir, edit);
        if (values.json) out.log(JSON.stringify(entry));
        else out.log(`Edit #${entry.id}: ${op === 'add' ? 'added' : op === 'change' ? 'changed' : op === 'delete' ? 'deleted' : 'relabelled'} row ${entry.index}. Undo with \`embedsmith dataset undo ${dir}\`.`);
        for (const w of warnings) out.log(`  warning: ${w.message}`);
        return 0;
      }
      case 'undo':
      case 'redo': {
        const { positionals } = parse(rest, {});
        const dir = one(positionals);
        const e = sub === 'undo' ? await undoLastEdit(dir) : await redoEdit(dir);
        out.log(`${sub === 'undo' ? 'Undid' : 'Redid'} edit #${e.id} (${describe(e)}).`);
        return 0;
      }
      case 'history': {
        const { values, positionals } = parse(rest, { json: { type: 'boolean', default: false } });
        const h = await editHistory(one(positionals));
        for (const w of h.warnings) out.error(`warning: ${w}`);
        if (values.json) {
          out.log(JSON.stringify(h.entries));
          return 0;
        }
        if (h.entries.length === 0) out.log('No edits yet.');
        for (const e of h.entries) {
          const change = e.op === 'undo' || e.op === 'redo' ? '' : `  ${JSON.stringify(e.before ?? null)} → ${JSON.stringify(e.after ?? null)}`;
          out.log(`#${e.id}  ${e.time}  ${describe(e)}${e.undone ? '  (undone)' : ''}${change}`);
        }
        return 0;
      }
      case 'retrieval': {
        const { values, positionals } = parse(rest, { out: { type: 'string' }, split: { type: 'string' } });
        const dir = one(positionals);
        if (!values.out) throw new UsageError('--out DIR is required');
        if (values.split !== undefined && values.split !== 'train' && values.split !== 'eval') throw new UsageError(`--split must be train or eval, got '${values.split}'`);
        const r = await deriveRetrievalSet(dir, { split: values.split as 'train' | 'eval' | undefined }, values.out);
        const k = r.meta.retrieval!;
        out.log(`Wrote a retrieval set to ${r.dir}: ${k.queries} queries, ${k.corpus} documents, ${k.qrels} relevance judgements.`);
        return 0;
      }
      case 'check': {
        const { values, positionals } = parse(rest, { model: { type: 'string' }, 'max-length': { type: 'string' }, template: { type: 'string' } });
        const dir = one(positionals);
        if (!values.model) throw new UsageError('--model MODEL_DIR is required (its tokenizer counts the tokens)');
        const lc = (await lengthCheckOption(values, dir))!;
        const r = await checkTokenLengths(dir, lc.tokenizer, lc.maxLength, lc.template);
        out.log(`Counted ${r.checked} texts: the longest has ${r.longest} tokens; ${r.tooLong} over the max length (TOO_MANY_TOKENS in report.json).`);
        for (const i of r.issues.slice(0, 10)) out.log(`  warning: ${i.message}`);
        if (r.issues.length > 10) out.log(`  … and ${r.issues.length - 10} more in report.json`);
        return 0;
      }
      default:
        throw new UsageError(`unknown dataset command '${sub ?? ''}'; use export, split, show, edit, undo, redo, history, retrieval or check`);
    }
  } catch (err) {
    return reportError('dataset', DATASET_USAGE, err, out);
  }
}
