// Stand-ins for datasets, transformers and sentence-transformers (5.1's module layout) that
// record what train.py hands them, so recipe.test.ts can run the script where those packages
// (and torch) are missing and compare the arguments with the run's config.json. The trainer
// drives the script's callbacks through two logged steps and calls a custom batch sampler.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const FILES: Record<string, string> = {
  'datasets/__init__.py': `import json

class Rows:
    def __init__(self, rows):
        self.rows = rows
        self.column_names = list(rows[0].keys()) if rows else []
    def __len__(self):
        return len(self.rows)
    def __getitem__(self, i):
        return self.rows[i]

def load_dataset(kind, data_files, split):
    assert kind == "json" and split == "train"
    with open(data_files, encoding="utf-8") as f:
        return Rows([json.loads(line) for line in f if line.strip()])
`,
  'transformers/__init__.py': `import sentence_transformers as st

class TrainerCallback:
    pass

class EarlyStoppingCallback(TrainerCallback):
    def __init__(self, early_stopping_patience=1):
        st.REC["early_stopping_patience"] = early_stopping_patience
`,
  'sentence_transformers/__init__.py': `import atexit, json, os
__version__ = "5.1.0"
REC = {}
atexit.register(lambda: json.dump(REC, open(os.environ["FAKE_RECORD"], "w"), default=str))

class SentenceTransformer:
    def __init__(self, name, **kw):
        REC["model"] = {"name": name, **kw}
        self.prompts, self.default_prompt_name, self.max_seq_length = {"query": "own: "}, "query", 512
    def save_pretrained(self, path):
        os.makedirs(path, exist_ok=True)
        REC["saved"] = {"prompts": self.prompts, "default_prompt_name": self.default_prompt_name, "max_seq_length": self.max_seq_length}

class SentenceTransformerTrainingArguments:
    warmup_steps = 0  # transformers 5: no warmup_ratio field
    def __init__(self, **kw):
        self.__dict__.update(kw)
        REC["args"] = {k: "<class>" if isinstance(v, type) else v for k, v in kw.items()}

class State:
    is_world_process_zero, global_step, max_steps = True, 0, 2

class Sched:
    def __init__(self, lr):
        self.lr = lr
    def get_last_lr(self):
        return [self.lr]

class SentenceTransformerTrainer:
    def __init__(self, model, args, train_dataset, loss, evaluator=None, callbacks=()):
        self.args, self.data, self.callbacks = args, train_dataset, callbacks
        REC["trainer"] = {"evaluator": evaluator is not None, "callbacks": [type(c).__name__ for c in callbacks]}
    def is_world_process_zero(self):
        return True
    def train(self):
        a, state = self.args, State()
        if isinstance(a.batch_sampler, type):
            REC["batches"] = list(a.batch_sampler(self.data, batch_size=a.per_device_train_batch_size, drop_last=False,
                                                  valid_label_columns=["label", "score"], generator=None, seed=a.seed))
        for c in self.callbacks:
            getattr(c, "on_train_begin", lambda *x: None)(a, state, None)
        for step, lr in ((1, 0.0), (2, 5e-5)):
            for c in self.callbacks:
                getattr(c, "on_step_begin", lambda *x, **k: None)(a, state, None, lr_scheduler=Sched(lr))
            state.global_step = step
            for c in self.callbacks:
                getattr(c, "on_log", lambda *x, **k: None)(a, state, None, logs={"loss": 1.5 / step, "grad_norm": 0.5, "learning_rate": 9.0, "epoch": step / 2})
`,
  'sentence_transformers/losses.py': `from sentence_transformers import REC

class MultipleNegativesRankingLoss:
    def __init__(self, model, scale=20.0, similarity_fct=None, gather_across_devices=False, directions=("query_to_doc",), partition_mode="joint"):
        REC["loss"] = {"name": type(self).__name__, "scale": scale, "gather_across_devices": gather_across_devices,
                       "directions": list(directions), "partition_mode": partition_mode}

class CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss):
    def __init__(self, model, scale=20.0, similarity_fct=None, mini_batch_size=32, gather_across_devices=False):
        super().__init__(model, scale, similarity_fct, gather_across_devices)
        REC["loss"]["mini_batch_size"] = mini_batch_size
`,
  'sentence_transformers/evaluation.py': `from sentence_transformers import REC

class InformationRetrievalEvaluator:
    def __init__(self, queries, corpus, relevant_docs, score_functions=None, **kw):
        REC["evaluator"] = {"queries": queries, "corpus": corpus, "relevant": {q: sorted(d) for q, d in relevant_docs.items()},
                            "score_functions": sorted(score_functions or {}), **kw}
    def __call__(self, model):
        return {"embedsmith_cosine_ndcg@10": 0.5, "embedsmith_cosine_mrr@10": 0.25}
`,
  'sentence_transformers/sampler.py': `class DefaultBatchSampler:
    def __init__(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
        self.batch_size, self.drop_last = batch_size, drop_last
`,
  'sentence_transformers/util.py': `def cos_sim(a, b):
    raise NotImplementedError
`,
};

/** Writes the stand-in packages under `dir` (put it on PYTHONPATH). */
export async function writeFakeSentenceTransformers(dir: string): Promise<void> {
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}
