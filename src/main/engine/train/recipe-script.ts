// The text files of a training recipe (recipe.ts): train.py, a sentence-transformers (≥ 5.1)
// script that trains as the Embedsmith run did, on one GPU or many through `accelerate launch`;
// requirements.txt; and README.md. train.py holds one RECIPE literal made from the run's
// config.json and only reads it, so recipe.test.ts can check the literal against config.json
// and, with stand-in modules, what the script hands to sentence-transformers.
import type { Recipe } from './recipe.js';

/** A JSON value as a Python literal (what ast.literal_eval reads back). */
export function pyLiteral(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) throw new Error('pyLiteral: NaN has no literal');
    // 1e999 overflows to inf, the one infinite value literal_eval accepts.
    return Number.isFinite(v) ? JSON.stringify(v) : v > 0 ? '1e999' : '-1e999';
  }
  // JSON's escapes (\" \\ \n \uXXXX …) mean the same in a Python string.
  if (typeof v === 'string') return JSON.stringify(v);
  const inner = indent + '    ';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map((x) => pyLiteral(x, inner)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(x, inner)},`).join('\n')}\n${indent}}`;
}

export const REQUIREMENTS = 'sentence-transformers[train]>=5.1\n';

export function trainPy(recipe: Recipe): string {
  return String.raw`#!/usr/bin/env python3
"""Trains as the Embedsmith run in RECIPE["made_from"] did, with sentence-transformers.

Made by embedsmith export --format recipe. From this folder:
    pip install -r requirements.txt
    accelerate launch train.py        # every GPU here; see accelerate config for several machines
    python train.py                   # one GPU or the CPU
Options: --base-model PATH_OR_HUB_ID, --output DIR, --bf16. README.md says what differs.
"""
import argparse
import importlib
import inspect
import json
import math
import os
import re
import sys
import time
from pathlib import Path

try:
    import sentence_transformers
    from datasets import load_dataset
    from transformers import EarlyStoppingCallback, TrainerCallback
except ImportError as e:
    sys.exit(f"train.py: {e}. Fix: pip install -r requirements.txt")

# Every value comes from the run's config.json (recipe.json keeps it); the code below only
# reads RECIPE, so what is changed here changes the training.
RECIPE = ${pyLiteral(recipe)}

HERE = Path(__file__).resolve().parent


def need(name, *modules):
    # sentence-transformers 5.4 moved its modules; older paths still work in some versions.
    for m in modules:
        try:
            return getattr(importlib.import_module(m), name)
        except (ImportError, AttributeError):
            pass
    sys.exit(f"train.py: {name} not found in {', '.join(modules)}. Fix: pip install -r requirements.txt")


# At module level: transformers pickles the training arguments, this class among them.
DefaultBatchSampler = need("DefaultBatchSampler", "sentence_transformers.base.sampler", "sentence_transformers.sampler")


def base_model(choice):
    # The run's base model is a folder on the machine that trained it; elsewhere, the hub copy it came from.
    if choice:
        return choice, None
    b = RECIPE["base_model"]
    if Path(b["path"]).is_dir() or not b["hub_id"]:
        return b["path"], None
    return b["hub_id"], b["revision"]


def per_device_batch():
    # batch_size is the global batch (Embedsmith's --batch-size); each process takes an equal share.
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if RECIPE["batch_size"] % world:
        sys.exit(f"train.py: batch size {RECIPE['batch_size']} does not split over {world} processes. "
                 "Fix: launch a number of processes that divides it (accelerate launch --num_processes N).")
    return RECIPE["batch_size"] // world


def warmup_kwargs(args_class):
    w = RECIPE["warmup"]
    if w >= 1:
        return {"warmup_steps": int(w)}
    # transformers 5 reads a fraction from warmup_steps and has no warmup_ratio; 4.x needs warmup_ratio.
    return {"warmup_ratio": w} if hasattr(args_class, "warmup_ratio") else {"warmup_steps": w}


class FileOrderNoDuplicates(DefaultBatchSampler):
    """--no-shuffle: the no-duplicates rule over the rows in file order, as Embedsmith batches them."""

    def __init__(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        self.rows = dataset

    def __iter__(self):
        remaining = dict.fromkeys(range(len(self.rows)))
        while remaining:
            batch, seen = [], set()
            for i in remaining:
                texts = {str(v) for k, v in self.rows[i].items() if k in RECIPE["columns"]}
                if texts & seen:
                    continue
                batch.append(i)
                seen |= texts
                if len(batch) == self.batch_size:
                    break
            for i in batch:
                del remaining[i]
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self):
        return (len(self.rows) + self.batch_size - 1) // self.batch_size


def finite(x):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def embedsmith_metrics(logs):
    # "eval_<name>_cosine_ndcg@10" -> "ndcg@10", Embedsmith's metric names.
    prefix = re.compile(r"^(eval_)?" + re.escape(RECIPE["eval"]["name"] + "_cosine_")) if RECIPE["eval"] else None
    return {prefix.sub("", k): v for k, v in logs.items() if prefix and prefix.match(k)}


class Recorder(TrainerCallback):
    """metrics.jsonl in Embedsmith's shape (step, epoch, loss, lr, gradNorm, pairsPerSec, eval)."""

    def __init__(self, path):
        self.path, self.pending, self.lr, self.t = path, None, None, time.time()

    def on_train_begin(self, args, state, control, **kw):
        if state.is_world_process_zero:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def on_step_begin(self, args, state, control, lr_scheduler=None, **kw):
        # The rate this step runs at, as Embedsmith records it; transformers logs the next step's.
        if lr_scheduler is not None:
            self.lr = lr_scheduler.get_last_lr()[0]

    def on_log(self, args, state, control, logs=None, **kw):
        if not state.is_world_process_zero or not logs:
            return
        if embedsmith_metrics(logs):
            self.attach_eval(logs)
        elif "loss" in logs:
            self.flush()
            now = time.time()
            self.pending = {"step": state.global_step, "epoch": max(0, math.ceil(logs.get("epoch", 0)) - 1),
                            "loss": finite(logs["loss"]), "lr": self.lr if self.lr is not None else logs.get("learning_rate"),
                            "gradNorm": finite(logs.get("grad_norm")), "pairsPerSec": RECIPE["batch_size"] / max(now - self.t, 1e-9)}
            self.t = now

    def attach_eval(self, metrics):
        if self.pending is not None:
            self.pending["eval"] = embedsmith_metrics(metrics)

    def flush(self):
        if self.pending is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(self.pending) + "\n")
            self.pending = None


class EvaluateAtEnd(TrainerCallback):
    """Embedsmith also evaluates after the last step, and that evaluation can pick the best model."""

    def on_step_end(self, args, state, control, **kw):
        if state.global_step >= state.max_steps:
            control.should_evaluate = True
            control.should_save = True
        return control


def main():
    cli = argparse.ArgumentParser(description="Embedsmith training recipe for sentence-transformers")
    cli.add_argument("--base-model", help="model folder or hub id (default: the run's base model)")
    cli.add_argument("--output", default=str(HERE / "output"), help="run folder to write: model/, metrics.jsonl, config.json")
    cli.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision (Embedsmith trains in float32)")
    opts = cli.parse_args()
    SentenceTransformer = need("SentenceTransformer", "sentence_transformers")
    Trainer = need("SentenceTransformerTrainer", "sentence_transformers")
    Arguments = need("SentenceTransformerTrainingArguments", "sentence_transformers")
    Loss = need(RECIPE["loss"]["name"], "sentence_transformers.sentence_transformer.losses", "sentence_transformers.losses")
    unknown = [k for k in RECIPE["loss"]["kwargs"] if k not in inspect.signature(Loss).parameters]
    if unknown:
        sys.exit(f"train.py: this sentence-transformers' {RECIPE['loss']['name']} takes no {', '.join(unknown)}. "
                 "Fix: pip install -U -r requirements.txt")
    Evaluator = need("InformationRetrievalEvaluator", "sentence_transformers.sentence_transformer.evaluation", "sentence_transformers.evaluation")
    cos_sim = need("cos_sim", "sentence_transformers.util")

    out = Path(opts.output)
    name, revision = base_model(opts.base_model)
    p = RECIPE["dropout"]
    model = SentenceTransformer(name, revision=revision, config_kwargs=None if p is None else
                                {"hidden_dropout_prob": p, "attention_probs_dropout_prob": p})
    model.max_seq_length = RECIPE["max_seq_length"]
    # Embedsmith embeds with the run's templates and no default prompt; the model is saved so.
    model.prompts = dict(RECIPE["model_prompts"])
    model.default_prompt_name = None

    train = load_dataset("json", data_files=str(HERE / "train.jsonl"), split="train")
    if train.column_names != RECIPE["columns"]:
        sys.exit(f"train.py: train.jsonl has columns {train.column_names}, the recipe {RECIPE['columns']}. Fix: export the recipe again.")
    loss = Loss(model, **RECIPE["loss"]["kwargs"])
    if RECIPE["loss"].get("matryoshka"):
        Matryoshka = need("MatryoshkaLoss", "sentence_transformers.sentence_transformer.losses", "sentence_transformers.losses")
        mk = RECIPE["loss"]["matryoshka"]
        loss = Matryoshka(model, loss, matryoshka_dims=mk["dims"], matryoshka_weights=mk["weights"])
    per_device = per_device_batch()
    evaluator = None
    if RECIPE["eval"]:
        ev = json.loads((HERE / RECIPE["eval"]["file"]).read_text(encoding="utf-8"))
        evaluator = Evaluator(ev["queries"], ev["corpus"], {q: set(d) for q, d in ev["relevant_docs"].items()},
                              name=RECIPE["eval"]["name"], score_functions={"cosine": cos_sim}, batch_size=per_device,
                              query_prompt=RECIPE["model_prompts"].get("query"),
                              corpus_prompt=RECIPE["model_prompts"].get("document"), **RECIPE["eval"]["cutoffs"])
    during = bool(RECIPE["eval"] and RECIPE["eval"]["during_training"])
    args = Arguments(output_dir=str(out / "checkpoints"), per_device_train_batch_size=per_device,
                     per_device_eval_batch_size=per_device, prompts=RECIPE["prompts"], bf16=opts.bf16,
                     batch_sampler="no_duplicates" if RECIPE["shuffle"] else FileOrderNoDuplicates,
                     **warmup_kwargs(Arguments), **RECIPE["args"])
    recorder = Recorder(out / "metrics.jsonl")
    callbacks = [recorder]
    if during:
        callbacks.append(EvaluateAtEnd())
        if RECIPE["early_stopping_patience"]:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=RECIPE["early_stopping_patience"]))
    trainer = Trainer(model=model, args=args, train_dataset=train, loss=loss,
                      evaluator=evaluator if during else None, callbacks=callbacks)
    trainer.train()
    if trainer.is_world_process_zero():
        if evaluator is not None and not during:
            recorder.attach_eval(evaluator(model))
        recorder.flush()
        model.save_pretrained(str(out / "model"))
        settings = json.loads((HERE / "recipe.json").read_text(encoding="utf-8"))["settings"]
        settings["trainedWith"] = f"sentence-transformers {sentence_transformers.__version__} (train.py)"
        (out / "config.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
        print(f"train.py: model in {out / 'model'}; metrics in {out / 'metrics.jsonl'}")


if __name__ == "__main__":
    main()
`;
}

export interface RecipeCounts {
  trainRows: number;
  negatives: number;
  evalQueries: number;
  evalCorpus: number;
}

/** `lossNote`: how the recipe's loss matches the run's, in the loss unit's words (LossUnit.recipeNote). */
export function recipeReadme(r: Recipe, c: RecipeCounts, lossNote: string): string {
  const b = r.batch_size;
  const hub = r.base_model.hub_id ? `; where that folder is missing, \`${r.base_model.hub_id}\`${r.base_model.revision ? ` at ${r.base_model.revision}` : ''} from the hub` : '';
  const negs = c.negatives === 0 ? '' : c.negatives === 1 ? ', negative_1' : `, negative_1 … negative_${c.negatives}`;
  const evalLine = !r.eval
    ? 'The run had no `--eval` set and its dataset no split, so nothing is evaluated.'
    : r.eval.during_training
      ? `It is evaluated every ${r.args.eval_steps} steps and after the last; the best ${r.args.metric_for_best_model} picks the saved model${r.early_stopping_patience ? `, and ${r.early_stopping_patience} evaluations without improvement stop the run` : ''}, as in Embedsmith.`
      : 'It is evaluated once, after training (the run had no `--eval` with `--eval-every`).';
  return `# Training recipe

Made by \`embedsmith export --format recipe\` from \`${r.made_from}\`: the run's data, prompts
and settings for sentence-transformers (≥ 5.1), to train on more GPUs than Embedsmith uses.

## Run

    pip install -r requirements.txt
    accelerate launch train.py                    # every GPU of this machine
    accelerate launch --num_processes N train.py
    python train.py                               # one GPU or the CPU

For several machines, \`accelerate config\` on each (or a launcher that sets WORLD_SIZE). The
number of processes must divide the batch size, ${b}. Options: \`--base-model PATH_OR_HUB_ID\`
(default \`${r.base_model.path}\`${hub}), \`--output DIR\` (default \`output/\`), \`--bf16\`.

## What it writes

- \`output/model/\`: a sentence-transformers model folder with the run's prompts; Embedsmith
  loads it (\`embedsmith eval --model output/model --data DATASET_DIR\`, embed, export, umap).
- \`output/metrics.jsonl\`, \`output/config.json\`: Embedsmith's run layout, so \`output/\` opens
  as a run for the loss, learning-rate and metric plots.
- \`output/checkpoints/\`: transformers' checkpoints; train.py does not resume from them.

## Files

- \`train.jsonl\`: ${c.trainRows} rows (anchor, positive${negs}): the training side of the dataset
  as it is now (split.json's eval rows left out), without templates: those go in as prompts.
- ${r.eval ? `\`eval.json\`: ${c.evalQueries} queries over ${c.evalCorpus} documents for InformationRetrievalEvaluator, built as \`embedsmith eval\` builds them. ` : ''}${evalLine}
- \`recipe.json\`: the run's config.json and the recipe made from it (\`RECIPE\` in train.py).

## Same as the Embedsmith run

${lossNote}${r.loss.matryoshka ? ` Inside MatryoshkaLoss at widths ${r.loss.matryoshka.dims.join(', ')} (weights ${r.loss.matryoshka.weights.join(', ')}), as --matryoshka.` : ''}
No text twice in a batch; the short last batch is kept. AdamW (0.9, 0.999, 1e-8), weight decay ${String(r.args.weight_decay)} except biases and LayerNorm,
clipping ${r.args.max_grad_norm ? `at ${String(r.args.max_grad_norm)}` : 'off'}, ${r.args.lr_scheduler_type === 'linear' ? 'linear' : 'constant'} schedule after ${r.warmup < 1 ? `${r.warmup * 100} % of the steps` : `${r.warmup} steps`} of warmup,
learning rate ${String(r.args.learning_rate)}, ${r.args.max_steps !== -1 ? `${String(r.args.max_steps)} steps` : `${String(r.args.num_train_epochs)} epoch(s)`}, seed ${String(r.args.seed)}, max length ${r.max_seq_length},
dropout ${r.dropout ?? "from the model's config"}.

## What differs

- Float32 by default, as Embedsmith; \`--bf16\` trades exactness for speed.
- ${r.shuffle ? "Shuffling uses torch's generator, so the batches are not Embedsmith's." : 'The run used --no-shuffle: on one process, train.py batches the rows in file order exactly as Embedsmith did.'}
- The no-duplicates rule holds within each process's share: two shares of one step may hold the
  same text, which then counts as a negative (Embedsmith's batches never repeat a text).
- transformers counts ceil(rows / batch) steps per epoch for the schedule; when the rule forces
  extra batches Embedsmith counts those too. With several processes, accelerate repeats a few
  rows so that every process has a full last step.
- Dropout masks come from torch; texts are padded to the batch's longest, not to length buckets
  (padding is masked either way).
`;
}
