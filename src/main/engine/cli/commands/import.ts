// `embedsmith import FILE --out DATASET_DIR …` (DESIGN §6): a thin shell over
// data/importDataset, and `import --queries Q --corpus C --qrels R --out DIR` over
// data/importRetrievalSet. --json prints {"dataset","format","rows","skipped","issues":[{line,code,message}]}
// (a retrieval set adds "queries", "corpus", "qrels"). --model counts tokens against that model.
import { parseArgs } from 'node:util';
import { importDataset, type ImportResult } from '../../data/import.js';
import { importRetrievalSet } from '../../data/retrieval-import.js';
import { templateByName } from '../../data/templates.js';
import { projectHolding } from '../../workspace/project.js';
import { modelTokenizer, type LengthCheck } from '../../data/token-lengths.js';
import { ENCODING_CHOICES, ROW_FORMATS, type EncodingChoice } from '../../../../shared/dataset-formats.js';
import { FORMATS, type DatasetFormat } from '../../data/types.js';
import { UsageError, intOption, reportError, type Out } from './common.js';

export const IMPORT_USAGE = `Usage: embedsmith import FILE --out DATASET_DIR [--format auto|${ROW_FORMATS.join('|')}]
       [--map role=column,…] [--delimiter C] [--encoding ${ENCODING_CHOICES.join('|')}] [--json]
       [--model MODEL_DIR [--max-length N] [--template PRESET|SAVED_NAME]]
       embedsmith import --queries FILE --corpus FILE --qrels FILE --out DATASET_DIR [--delimiter C]
       [--encoding …] [--json] [--model MODEL_DIR …]`;

/**
 * The token-length check --model/--max-length/--template ask for (undefined without --model).
 * --template is a preset or a template saved in the project the dataset `dataset` lies in.
 */
export async function lengthCheckOption(values: { model?: string; 'max-length'?: string; template?: string }, dataset: string): Promise<LengthCheck | undefined> {
  if (!values.model) {
    if (values['max-length'] !== undefined || values.template !== undefined) throw new UsageError('--max-length and --template need --model MODEL_DIR (the tokenizer to count with)');
    return undefined;
  }
  const maxLength = intOption('max-length', values['max-length']);
  const template = values.template === undefined ? undefined : await templateByName(values.template, await projectHolding(dataset));
  // The tokenizer is loaded first, so a bad model folder stops the command before anything is written.
  return { tokenizer: await modelTokenizer(values.model, maxLength), maxLength, template };
}

export async function importCommand(args: string[], out: Out): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          out: { type: 'string' },
          format: { type: 'string', default: 'auto' },
          map: { type: 'string', multiple: true },
          delimiter: { type: 'string' },
          encoding: { type: 'string', default: 'auto' },
          json: { type: 'boolean', default: false },
          queries: { type: 'string' },
          corpus: { type: 'string' },
          qrels: { type: 'string' },
          model: { type: 'string' },
          'max-length': { type: 'string' },
          template: { type: 'string' },
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const retrieval = values.queries !== undefined || values.corpus !== undefined || values.qrels !== undefined;
    if (retrieval) {
      if (positionals.length) throw new UsageError(`a retrieval set is read from --queries, --corpus and --qrels; remove '${positionals[0]}' or import it separately`);
      const missing = (['queries', 'corpus', 'qrels'] as const).filter((k) => !values[k]);
      if (missing.length) throw new UsageError(`a retrieval set needs all three files; missing ${missing.map((k) => `--${k} FILE`).join(', ')}`);
      if (values.map || (values.format !== 'auto' && values.format !== 'retrieval')) throw new UsageError('--map and --format apply to one-file imports; a retrieval set finds its columns by name (_id, text, title; query-id, corpus-id, score)');
    } else if (positionals.length !== 1) throw new UsageError(`give exactly one input FILE (got ${positionals.length})`);
    if (!values.out) throw new UsageError('--out DATASET_DIR is required');
    if (values.format !== 'auto' && !(FORMATS as readonly string[]).includes(values.format!)) {
      throw new UsageError(`--format must be auto, ${FORMATS.join(', ')}; got '${values.format}'`);
    }
    const encoding = values.encoding === 'utf-8' ? 'utf8' : values.encoding!;
    if (!(ENCODING_CHOICES as readonly string[]).includes(encoding)) throw new UsageError(`--encoding must be one of ${ENCODING_CHOICES.join(', ')}; got '${values.encoding}'`);
    const lengthCheck = await lengthCheckOption(values, values.out);
    const common = { delimiter: values.delimiter, encoding: encoding as EncodingChoice, lengthCheck };
    const r = retrieval
      ? await importRetrievalSet({ queries: values.queries!, corpus: values.corpus!, qrels: values.qrels! }, values.out, common)
      : await importDataset(positionals[0], values.out, { ...common, format: values.format as 'auto' | DatasetFormat, map: values.map });
    printResult(r, values.json!, out);
    return 0;
  } catch (err) {
    return reportError('import', IMPORT_USAGE, err, out);
  }
}

function printResult(r: ImportResult, json: boolean, out: Out): void {
  const { rows, skipped, warnings } = r.meta.counts;
  const kept = r.meta.retrieval;
  if (json) {
    const issues = r.report.issues.map(({ line, code, message }) => ({ line, code, message }));
    const parts = kept ? { queries: kept.queries, corpus: kept.corpus, qrels: kept.qrels } : {};
    out.log(JSON.stringify({ dataset: r.dir, format: r.meta.format, rows, skipped, issues, ...parts }));
    return;
  }
  if (kept) {
    out.log(`Imported a retrieval set into ${r.dir}: ${kept.queries} queries, ${kept.corpus} documents, ${kept.qrels} relevance judgements.`);
    if (kept.queriesWithoutRelevant) out.log(`Left out ${kept.queriesWithoutRelevant} queries without a relevant document in the qrels file (NO_RELEVANT in report.json).`);
  } else {
    const roles = Object.entries(r.meta.roles)
      .map(([role, col]) => `${role}=${Array.isArray(col) ? col.join('+') : col}`)
      .join(', ');
    out.log(`Imported ${rows} ${r.meta.format} rows into ${r.dir} (${roles}).`);
  }
  if (skipped) out.log(`Skipped ${skipped} row(s) that could not be used; they are listed in report.json and skipped.jsonl.`);
  if (warnings) out.log(`${warnings} warning(s); see report.json.`);
  const tokens = r.report.issues.find((i) => i.code === 'TOKEN_LENGTHS');
  if (tokens) out.log(`Token ${tokens.message.replace(/^token /, '')}.`);
  const shown = r.report.issues.filter((i) => i.code !== 'TOKEN_LENGTHS');
  for (const i of shown.slice(0, 10)) out.log(`  ${i.severity}: ${i.message}`);
  if (shown.length > 10) out.log(`  … and ${shown.length - 10} more in report.json`);
}
