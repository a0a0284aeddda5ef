// `embedsmith train --model MODEL_DIR --data DATASET_DIR --out RUN_DIR [options]` (DESIGN §6):
// flags → TrainSettings (train/settings.ts) → trainRun. Ctrl-C stops after the running step
// and writes a checkpoint; `--resume` continues it exactly.
import { availableParallelism } from 'node:os';
import { cliFlag, helpLine, parseSettingWord, requiredFirst, usageToken, type SettingRow } from '../../../../shared/setting-table.js';
import { TRAIN_COMMAND_FLAGS, trainSettingRows } from '../../../../shared/train-settings.js';
import { lossChoices, losses } from '../../train/losses/index.js';
import { templateByName } from '../../data/templates.js';
import { type Searcher, createSearcher } from '../../search/search.js';
import { describeGeneral, guardForgetting } from '../../eval/general.js';
import { trainingEvaluator } from '../../train/evaluator.js';
import { type Evaluate, trainRun } from '../../train/run.js';
import { type TrainSettings, modelTemplate } from '../../train/settings.js';
import { modelTrainDefaults, readModelLimits } from '../../train/model-defaults.js';
import { projectHolding } from '../../workspace/project.js';
import { type Out, UsageError, parseOptions, reportError } from './common.js';

/** train's own flags beside the settings: where the run goes and how it starts. */
const COMMAND_FLAGS = ['--out RUN_DIR', '[--resume]', '[--no-general-eval]'];
const COMMAND_HELP = [
  '--out RUN_DIR  the run folder: config.json, metrics.jsonl, checkpoints/, model/ (required)',
  '--resume  continue the run in --out from its last checkpoint, with the same settings',
  "--no-general-eval  skip the forgetting guard (the general set's scores before and after)",
];

/** The table's rows with --loss's placeholder spelt out from the loss registry (the table cannot know it). */
function rowsWithLosses(): readonly SettingRow[] {
  return trainSettingRows().map((r) => (r.key === 'loss' ? { ...r, arg: lossChoices().join('|') } : r));
}

/** The usage line, from the settings table (rows registered at run time included). */
export function trainUsage(): string {
  const tokens = requiredFirst(rowsWithLosses()).map(usageToken);
  const required = tokens.filter((t) => !t.startsWith('['));
  return `usage: embedsmith train ${[...required, COMMAND_FLAGS[0], ...tokens.slice(required.length), ...COMMAND_FLAGS.slice(1)].join(' ')}`;
}

/** One line per option, for `embedsmith train --help`. */
export function trainOptionsHelp(except: readonly string[] = []): string[] {
  const rows = requiredFirst(rowsWithLosses()).filter((r) => !except.includes(r.flag));
  const required = rows.filter((r) => r.defaultFrom === 'required').length;
  return [...rows.slice(0, required).map(helpLine), COMMAND_HELP[0], ...rows.slice(required).map(helpLine), ...COMMAND_HELP.slice(1)];
}

/** The command's own options; the shared table keeps settings off these names (TRAIN_COMMAND_FLAGS). */
const COMMAND_OPTIONS = { out: { type: 'string' }, resume: { type: 'boolean' }, 'no-general-eval': { type: 'boolean' } } as const satisfies Record<
  Exclude<(typeof TRAIN_COMMAND_FLAGS)[number], 'help'>,
  { type: 'string' | 'boolean' }
>;

function options(rows: readonly SettingRow[]) {
  const o: Record<string, { type: 'string' | 'boolean' }> = { ...COMMAND_OPTIONS };
  for (const r of rows) o[cliFlag(r)] = { type: r.kind === 'boolean' ? 'boolean' : 'string' };
  return o;
}

/** Flags → settings; `evaluate` comes from the caller (the eval set needs the engine's embedder). */
export async function trainSettingsFromArgs(args: string[]): Promise<{ settings: TrainSettings; resume: boolean; out: string; generalEval: boolean }> {
  const rows = trainSettingRows();
  const v = parseOptions(args, options(rows)) as Record<string, string | boolean | undefined>;
  const word = (flag: string) => v[flag] as string | undefined;
  if (!word('model') || !word('data') || !word('out')) throw new UsageError('--model, --data and --out are required');
  const ctx = { cores: availableParallelism() };
  // Length and learning rate follow the base model unless given (issue 15 §1–2).
  const own: Record<string, unknown> = modelTrainDefaults(await readModelLimits(word('model')!));
  const values: Record<string, unknown> = {};
  for (const r of rows) {
    const given = v[cliFlag(r)];
    if (r.kind === 'boolean') values[r.key] = given === undefined ? r.default : r.default !== true;
    else if (r.kind === 'template') values[r.key] = await templateFromArgs(given as string | undefined, word('model')!, word('data')!, word('out')!);
    else if (given !== undefined) {
      const read = parseSettingWord(r, given as string, ctx);
      if ('problem' in read) throw new UsageError(read.problem);
      values[r.key] = read.value;
    } else if (r.defaultFrom === 'model') values[r.key] = own[r.key] ?? r.default;
    else if (r.defaultFrom === 'machine') values[r.key] = availableParallelism();
    else values[r.key] = r.default;
  }
  return { settings: values as unknown as TrainSettings, resume: v.resume === true, out: word('out')!, generalEval: v['no-general-eval'] !== true };
}

/** --template: a preset, or a template saved in the project the data (else the run) lies in; absent, the model's own prompts. */
async function templateFromArgs(name: string | undefined, model: string, data: string, out: string): Promise<TrainSettings['template']> {
  if (name === undefined) return modelTemplate(model);
  const project = (await projectHolding(data)) ?? (await projectHolding(out));
  const t = await templateByName(name, project);
  return { query: t.query, document: t.document };
}

export async function trainCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  let searcher: Searcher | null = null;
  const onSigint = () => {
    out.error('embedsmith train: stopping after this step (Ctrl-C again to kill; the last checkpoint stays)…');
    ctl.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  try {
    const { settings, resume, out: runDir, generalEval } = await trainSettingsFromArgs(args);
    // The eval set's k-NN search runs on the CPU: it is small next to the training steps.
    searcher = settings.eval ? createSearcher({ device: 'cpu' }) : null;
    const evaluate: Evaluate | undefined = settings.eval && searcher ? trainingEvaluator(settings.eval, settings, searcher.search) : undefined;
    process.once('SIGINT', onSigint);
    let last = 0;
    const r = await trainRun(settings, runDir, {
      resume,
      signal: ctl.signal,
      evaluate,
      log: (s) => out.error(`embedsmith train: ${s}`),
      onProgress: (p) => {
        const now = Date.now();
        if (p.step < p.totalSteps && now - last < 2000 && !p.eval) return;
        last = now;
        const ev = p.eval ? ' ' + Object.entries(p.eval).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(' ') : '';
        const masked = p.guideMasked !== undefined ? ` guide masked ${p.guideMasked}` : '';
        out.error(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.pairsPerSec.toFixed(1)} pairs/s eta ${Math.round(p.etaSec)} s${masked}${ev}`);
      },
    });
    if (r.cancelled) {
      out.error(`embedsmith train: stopped at step ${r.steps} of ${r.totalSteps}; continue with the same command and --resume`);
      return 1;
    }
    if (r.alreadyFinished) {
      out.log(
        `${r.runDir} was already finished: all ${r.totalSteps} steps ran before this --resume, so there was nothing to resume; ` +
          `final loss ${r.finalLoss?.toFixed(4) ?? 'not recorded'}; model in ${r.modelDir}. To train further, start a new run from it: --model ${r.modelDir} --out NEW_RUN_DIR`,
      );
      return 0;
    }
    out.log(`trained ${r.steps} steps on ${r.device} (${r.precision})${r.skippedSteps ? ` (${r.skippedSteps} skipped: non-finite gradients)` : ''}; final loss ${r.finalLoss?.toFixed(4)}; model in ${r.modelDir}`);
    if (generalEval && r.modelDir) {
      // The forgetting guard: the model is saved already, so a failure here only warns.
      try {
        const g = await guardForgetting({ base: settings.model, tuned: r.modelDir, runDir, device: settings.device, maxLength: settings.maxLength, signal: ctl.signal });
        out.log(describeGeneral(g));
      } catch (e) {
        out.error(`embedsmith train: the general-set check did not run (${e instanceof Error ? e.message : String(e)}); the trained model is saved`);
      }
    }
    return 0;
  } catch (err) {
    return reportError('train', trainUsage(), err, out);
  } finally {
    process.off('SIGINT', onSigint);
    await searcher?.dispose();
  }
}

/** The help's list of losses, one line each, from the registry: name, the formats it takes (those --loss auto gives it), what it does. */
export function lossHelp(): string {
  return losses()
    .map((l) => `           --loss ${l.name}: ${l.title} on ${l.formats.join(', ')}${l.auto.length ? ` (auto for ${l.auto.join(', ')})` : ''}; ${l.doc} (${l.cite})`)
    .join('\n');
}
