// `embedsmith import FILE --out DATASET_DIR …` (DESIGN §6): a thin shell over
// data/importDataset. --json prints {"dataset","format","rows","skipped","issues":[{line,code,message}]}.
import { parseArgs } from 'node:util';
import { importDataset } from '../../data/import.js';
import { FORMATS, type DatasetFormat, type EncodingName } from '../../data/types.js';
import { UsageError, reportError, type Out } from './common.js';

export const IMPORT_USAGE = `Usage: embedsmith import FILE --out DATASET_DIR [--format auto|pairs|triplets|labeled|scored]
       [--map role=column,…] [--delimiter C] [--encoding auto|utf8|utf16le|latin1] [--json]`;

const ENCODINGS = ['auto', 'utf8', 'utf16le', 'utf16be', 'latin1'];

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
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`give exactly one input FILE (got ${positionals.length})`);
    if (!values.out) throw new UsageError('--out DATASET_DIR is required');
    if (values.format !== 'auto' && !(FORMATS as readonly string[]).includes(values.format!)) {
      throw new UsageError(`--format must be auto, ${FORMATS.join(', ')}; got '${values.format}'`);
    }
    const encoding = values.encoding === 'utf-8' ? 'utf8' : values.encoding!;
    if (!ENCODINGS.includes(encoding)) throw new UsageError(`--encoding must be one of ${ENCODINGS.join(', ')}; got '${values.encoding}'`);
    const r = await importDataset(positionals[0], values.out, {
      format: values.format as 'auto' | DatasetFormat,
      map: values.map,
      delimiter: values.delimiter,
      encoding: encoding as 'auto' | EncodingName,
    });
    const { rows, skipped, warnings } = r.meta.counts;
    if (values.json) {
      out.log(JSON.stringify({ dataset: r.dir, format: r.meta.format, rows, skipped, issues: r.report.issues.map(({ line, code, message }) => ({ line, code, message })) }));
      return 0;
    }
    const roles = Object.entries(r.meta.roles)
      .map(([role, col]) => `${role}=${Array.isArray(col) ? col.join('+') : col}`)
      .join(', ');
    out.log(`Imported ${rows} ${r.meta.format} rows into ${r.dir} (${roles}).`);
    if (skipped) out.log(`Skipped ${skipped} row(s) that could not be used; they are listed in report.json and skipped.jsonl.`);
    if (warnings) out.log(`${warnings} warning(s); see report.json.`);
    for (const i of r.report.issues.slice(0, 10)) out.log(`  ${i.severity}: ${i.message}`);
    if (r.report.issues.length > 10) out.log(`  … and ${r.report.issues.length - 10} more in report.json`);
    return 0;
  } catch (err) {
    return reportError('import', IMPORT_USAGE, err, out);
  }
}
