// The `embedsmith` command (DESIGN §6). Each command is a thin shell over the engine; exit
// codes: 0 success, 1 failure, 2 bad usage or bad input.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENCODING_CHOICES, ROW_FORMATS } from '../../../shared/dataset-formats.js';
import { EngineError } from '../../../shared/errors.js';
import { EngineHost } from '../host/engine-host.js';
import { createEngineService, defaultStateDir } from '../host/engine-service.js';
import { startWebBridge } from '../host/web-bridge.js';
import { ENGINE_VERSION } from '../version.js';
import { setDefaultLockHolder } from '../workspace/lock.js';
import { describeSweep, sweepTempLeftovers } from '../workspace/sweep.js';
import { CLI_HOLDER, guardProjects } from './project-guard.js';
import { embedCommand } from './commands/embed.js';
import { exportCommand } from './commands/export.js';
import { pullCommand } from './commands/pull.js';
import { importCommand } from './commands/import.js';
import { datasetCommand } from './commands/dataset.js';
import { lossHelp, trainCommand, trainOptionsHelp, trainUsage } from './commands/train.js';
import { demoCommand } from './commands/demo.js';
import { MINE_USAGE, mineCommand } from './commands/mine.js';
import { EVAL_USAGE, evalCommand } from './commands/eval.js';
import { UMAP_USAGE, umapCommand } from './commands/umap.js';
import { PRETRAIN_USAGE, PRETRAIN_OWN_HELP, pretrainCommand } from './commands/pretrain.js';
import { MERGE_USAGE, mergeCommand } from './commands/merge.js';
import { explainFsError } from '../workspace/fs-errors.js';

/** The top-level help; train's options come from the settings table, so it is made when asked. */
export function helpText(): string {
  const TRAIN_USAGE = trainUsage();
  return wrapLong(`embedsmith ${ENGINE_VERSION} — fine-tune text-embedding models on your own data

Usage: embedsmith <command> [options]

Commands available now:
  serve    [--port N] [--host 127.0.0.1] [--state-dir DIR] [--renderer DIR]
           Serve the app to a browser with the engine behind it (prints a URL with an
           access token). Bound to loopback; use an SSH tunnel to reach a remote GPU box.
  pull     ORG/NAME[@REVISION] [--out DIR] [--all] [--offline]
           Download a model from the Hugging Face hub into the standard HF cache
           (HF_TOKEN, HF_ENDPOINT, HF_HOME / HF_HUB_CACHE honoured; resumes partial files).
  embed    --model MODEL_DIR --input FILE [--column NAME] [--role query|document]
           --out FILE.jsonl|FILE.npy [--device auto|cpu|webgpu|cuda] [--batch-size N] [--dims N]
           [--max-length N]
           Embed texts (.txt one per line, or CSV/TSV/JSONL with --column) with the role's
           prompt; rows come out in input order. --max-length defaults to the model's
           max_seq_length; texts cut to it are counted and listed.
  export   --model RUN_DIR|MODEL_DIR --out DIR [--format sentence-transformers,onnx,fp16 | recipe] [--dims N]
           A sentence-transformers folder and/or onnx/model.onnx (pooling and normalisation
           inside; loads in onnxruntime and transformers.js). --format recipe (from a run):
           train.jsonl + eval.json + train.py for accelerate launch on a multi-GPU machine.
           --dims N (here, embed and eval): keep the first N dimensions (Matryoshka), written
           as sentence-transformers' truncate_dim.
  import   FILE --out DATASET_DIR [--format auto|${ROW_FORMATS.join('|')}]
           [--map role=column,…] [--delimiter C] [--encoding ${ENCODING_CHOICES.join('|')}] [--json]
           Import CSV/TSV/JSONL/Parquet with a validation report; bad rows are skipped and listed.
  import   --queries FILE --corpus FILE --qrels FILE --out DATASET_DIR [--delimiter C] [--encoding …] [--json]
           A retrieval set (BEIR queries.jsonl / corpus.jsonl / qrels/*.tsv, or CSV/TSV/Parquet).
  import   … [--model MODEL_DIR [--max-length N] [--template none|e5|bge|nomic|instructor|SAVED_NAME]]
           Count tokens against that model at import (TOO_MANY_TOKENS warnings in report.json).
           --template (here, dataset check, train) also takes a template saved in the
           project's templates.json (the Templates page's) when the data lies in that project.
  dataset export DATASET_DIR --out FILE.jsonl|FILE.csv
  dataset split DATASET_DIR [--eval 0.1] [--seed 42]
  dataset show DATASET_DIR N [N …]
  dataset edit DATASET_DIR --add JSON | --change N JSON | --delete N | --relabel N LABEL
  dataset undo DATASET_DIR        dataset redo DATASET_DIR
  dataset history DATASET_DIR [--json]
  dataset retrieval DATASET_DIR --out DIR [--split train|eval]
  dataset check DATASET_DIR --model MODEL_DIR [--max-length N] [--template PRESET|SAVED_NAME]
           N is a row index: 0-based in rows.jsonl order, kept when rows are deleted.
  project create DIR --name NAME     Make DIR a new Embedsmith project.
  project info DIR [--json]          Show a project's name, schema version and dates.
  mine     ${MINE_USAGE.slice(23)}
           Hard negatives from the model's own ranking, with their scores and ranks, written
           as a new dataset with a mining report.
  eval     ${EVAL_USAGE.slice(23)}
           nDCG@10, MRR@10, MAP@100, Recall@k, Accuracy@k (retrieval) or k-NN accuracy and
           macro-F1 (labelled); held-out split.json rows are the queries when present.
  umap     ${UMAP_USAGE.slice(23)}
           A seeded 2-D projection (our exact k-NN, fuzzy graph and layout (McInnes et al. 2018)) as JSON or a PNG scatter;
           --align fits it onto an earlier projection for before/after comparison.
  train    --model MODEL_DIR --data DATASET_DIR --out RUN_DIR [options]
           Contrastive fine-tuning (a loss below, AdamW); writes
           config.json, metrics.jsonl, checkpoints/ and model/. Ctrl-C checkpoints; --resume
           continues exactly. Options: ${TRAIN_USAGE.slice(TRAIN_USAGE.indexOf('--out RUN_DIR ') + 14)}
${lossHelp()}
  pretrain --model MODEL_DIR --input FILE_OR_DIR --out RUN_DIR [options]
           Domain pre-training from unlabelled .txt/.md/.jsonl documents (E5's recipe): weak
           pairs, in-batch training at batch 64, consistency filtering with that model, a
           second round on the kept pairs. Ctrl-C checkpoints; --resume continues.
           Options: ${PRETRAIN_USAGE.slice(PRETRAIN_USAGE.indexOf('--out RUN_DIR ') + 14)}
  merge    ${MERGE_USAGE.slice(23)}
           Interpolate every weight as (1 - A)·base + A·tuned (LM-Cocktail / WiSE-FT):
           a forgetting guard between the base model (A 0) and the fine-tuned one (A 1).
           --sweep N --data DATASET_DIR prints domain and general-set nDCG@10 at N alphas
           from 0 to 1, to choose A; train reports the general set before and after.
  demo     [--workspace DIR] [--device auto|cpu|webgpu|cuda] [--epochs N]
           The whole pipeline on the bundled demo: import web-features pairs, evaluate the
           tiny base model, mine hard negatives, train, evaluate again, export.

Options: -h, --help   this text (\`embedsmith COMMAND --help\`: that command's)     -v, --version   the version
         --verbose    with any command: the raw text behind short reasons (e.g. why a device was passed over)
Exit codes: 0 success, 1 failure, 2 bad usage or bad input.
`);
}

/** Lines past 100 characters (the option lists pasted in from each command's usage) wrap under the description column. */
function wrapLong(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.length <= 100) return line;
      const out: string[] = [];
      let cur = /^ */.exec(line)![0];
      // An option in brackets stays whole: '[--device auto|cpu]' never breaks after '--device'.
      for (const word of line.trim().match(/\[[^\]]*\]|\S+/g) ?? []) {
        if (cur.length + word.length + 1 > 100 && cur.trim() !== '') {
          out.push(cur);
          cur = ' '.repeat(11);
        }
        cur += (cur.trim() === '' ? '' : ' ') + word;
      }
      return [...out, cur].join('\n');
    })
    .join('\n');
}

class UsageError extends Error {}

/** Every command runCli dispatches, in the help's order. */
export const COMMANDS = ['serve', 'pull', 'embed', 'export', 'import', 'dataset', 'project', 'mine', 'eval', 'umap', 'train', 'pretrain', 'merge', 'demo'] as const;

/**
 * One command's part of the help: each entry whose first word is the command, with its indented
 * description. Cut from the help itself, so the two never disagree.
 */
export function commandHelp(command: string): string {
  const blocks: string[] = [];
  let keep = false;
  for (const line of helpText().split('\n')) {
    const entry = /^ {2}(\S+)/.exec(line);
    if (entry) keep = entry[1] === command;
    else if (!line.startsWith('   ')) keep = false;
    if (keep) blocks.push(line);
  }
  // train and pretrain: one line per option, from the settings table.
  const options = command === 'train' ? trainOptionsHelp() : command === 'pretrain' ? [...PRETRAIN_OWN_HELP, ...trainOptionsHelp(['data', 'batch-size'])] : [];
  if (options.length) blocks.push('', 'Options:', ...options.map((o) => `    ${o}`));
  return `Usage: embedsmith ${command} [options]   (embedsmith ${ENGINE_VERSION})\n\n${blocks.join('\n')}\n\nExit codes: 0 success, 1 failure, 2 bad usage or bad input.\n`;
}

type Out = { log: (s: string) => void; error: (s: string) => void };

/** Runs one command line; returns the exit code (never calls process.exit itself). */
export async function runCli(argv: string[], out: Out = console): Promise<number> {
  // --verbose anywhere: the raw text behind short reasons (the device probe's, for one).
  if (argv.includes('--verbose')) process.env.EMBEDSMITH_VERBOSE = '1';
  const [command, ...rest] = argv.filter((a) => a !== '--verbose');
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      out.log(helpText());
      return command === undefined ? 2 : 0;
    }
    if (command === '-v' || command === '--version') {
      out.log(ENGINE_VERSION);
      return 0;
    }
    // `embedsmith train --help` and the like: that command's help, whatever else is on the line.
    if ((COMMANDS as readonly string[]).includes(command) && rest.some((a) => a === '--help' || a === '-h')) {
      out.log(commandHelp(command));
      return 0;
    }
    setDefaultLockHolder(CLI_HOLDER);
    const targets = writeTargets(command, rest);
    const guard = await guardProjects(targets, (line) => out.error(`embedsmith: ${line}`));
    try {
      const swept = describeSweep(await sweepTempLeftovers(sweepDirs(targets), { depth: 3 }));
      if (swept) out.error(`embedsmith: ${swept}`);
      return await dispatch(command, rest, out);
    } finally {
      await guard.release();
    }
  } catch (thrown) {
    const err = explainFsError(thrown);
    if (err instanceof UsageError) {
      out.error(`embedsmith: ${err.message}`);
      return 2;
    }
    if (err instanceof EngineError) {
      out.error(`embedsmith: ${err.message}`);
      return err.code === 'BAD_INPUT' || err.code === 'NOT_FOUND' || err.code === 'ALREADY_EXISTS' || err.code === 'SCHEMA' ? 2 : 1;
    }
    out.error(`embedsmith: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * The paths a command line writes: its --out, and the dataset folder a `dataset` command
 * changes in place. The project guard and the leftover sweep look there.
 */
function writeTargets(command: string, rest: string[]): string[] {
  if (command === 'serve' || command === 'project' || command === 'demo') return [];
  const targets: string[] = [];
  rest.forEach((a, i) => {
    if (a === '--out' && rest[i + 1] !== undefined) targets.push(rest[i + 1]);
    else if (a.startsWith('--out=')) targets.push(a.slice(6));
  });
  const [sub, ...args] = rest;
  if (command === 'dataset' && ['edit', 'undo', 'redo', 'split', 'check'].includes(sub ?? '')) {
    // The first positional: flags other than --json take a value (`--add JSON`, `--model DIR`).
    for (let i = 0; i < args.length; i++) {
      if (args[i].startsWith('--')) {
        if (args[i] !== '--json' && !args[i].includes('=')) i++;
      } else {
        targets.push(args[i]);
        break;
      }
    }
  }
  return targets;
}

/** Where a command's interrupted writes leave temps: beside each target, and inside it (runs: checkpoints/, stage folders). */
function sweepDirs(targets: string[]): string[] {
  return targets.flatMap((t) => [dirname(resolve(t)), resolve(t)]);
}

async function dispatch(command: string, rest: string[], out: Out): Promise<number> {
  switch (command) {
    case 'serve':
      return await serve(rest, out);
    case 'project':
      return await project(rest, out);
    case 'demo':
      return await demoCommand(rest, out);
    case 'pull':
      return await pullCommand(rest, out);
    case 'embed':
      return await embedCommand(rest, out);
    case 'import':
      return await importCommand(rest, out);
    case 'dataset':
      return await datasetCommand(rest, out);
    case 'export':
      return await exportCommand(rest, out);
    case 'train':
      return await trainCommand(rest, out);
    case 'mine':
      return await mineCommand(rest, out);
    case 'eval':
      return await evalCommand(rest, out);
    case 'umap':
      return await umapCommand(rest, out);
    case 'pretrain':
      return await pretrainCommand(rest, out);
    case 'merge':
      return await mergeCommand(rest, out);
    default:
      throw new UsageError(`unknown command '${command}'; run \`embedsmith --help\` for the list`);
  }
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; run \`embedsmith --help\``);
  }
}

async function serve(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'state-dir': { type: 'string' },
    renderer: { type: 'string' },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535 (0 picks a free one), got '${values.port}'`);
  const host = new EngineHost({ stateDir: values['state-dir'] ?? defaultStateDir(), host: 'web-bridge', holder: `embedsmith serve (pid ${process.pid})` });
  const rendererDir = values.renderer ?? fileURLToPath(new URL('../../../../out/renderer', import.meta.url));
  const bridge = await startWebBridge({ engine: host, rendererDir, port, host: values.host });
  out.log(`Embedsmith is serving ${bridge.url}`);
  out.log('Open that URL in a browser (the token in it is the password). Ctrl+C stops.');
  await new Promise<void>((done) => {
    const stop = () => void bridge.close().then(() => host.dispose()).finally(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function project(args: string[], out: Out): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { name: { type: 'string' }, json: { type: 'boolean', default: false } }, true);
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageError(`project ${sub ?? ''}: give exactly one project folder`);
  // The CLI runs the service in-process: one command, one short-lived project lock.
  const engine = createEngineService({ stateDir: defaultStateDir(), host: 'node', holder: `embedsmith CLI (pid ${process.pid})` });
  try {
    let info;
    if (sub === 'create') {
      if (!values.name) throw new UsageError('project create: --name NAME is required');
      info = await engine.createProject(dir, values.name);
    } else if (sub === 'info') {
      info = await engine.openProject(dir);
    } else {
      throw new UsageError(`unknown project command '${sub ?? ''}'; use 'project create' or 'project info'`);
    }
    if (values.json) out.log(JSON.stringify(info));
    else out.log(`${info.name}\n  folder:  ${info.dir}\n  schema:  ${info.schemaVersion}\n  created: ${info.createdAt}\n  updated: ${info.updatedAt}`);
    return 0;
  } finally {
    await engine.dispose();
  }
}
