#!/usr/bin/python3
"""Reference for the training-fidelity check: 20 training steps, written in PyTorch from the
recipe in DESIGN.md §6 "Training semantics" (not translated from the engine's code).

    EMBEDSMITH_TRAIN_FIXTURE_INPUTS=/tmp/tf npx vitest run --project node \\
        src/main/engine/train/fidelity.test.ts          # writes /tmp/tf/model + token-ids.json
    /usr/bin/python3 scripts/make-train-fixture.py --model /tmp/tf/model

Needs Debian 12's python3-torch (1.13, CPU) and nothing else (no transformers, safetensors
or numpy; safetensors is parsed by hand). Reads, from test/fixtures/train-20-steps/:
run.json (model options and run settings shared with the test), dataset.csv (the triplets),
token-ids.json (each text's WordPiece ids without special tokens, untruncated, dumped by the
test so this script needs no tokenizer); and from --model the seeded tiny BERT that
writeRandomBert wrote (config.json, model.safetensors, vocab.txt). Writes expected.json.

The recipe, as sentence-transformers runs it with MultipleNegativesRankingLoss:
  batches   file order (no shuffle), batch size B, NoDuplicatesBatchSampler's rule (an example
            joins the batch only if none of its texts is in it yet; skipped examples wait for
            a later batch, scanned again from the first unused one), last partial batch kept,
            epochs repeat until max_steps;
  tokens    [CLS] + content[:max_length-2] + [SEP], token types 0, positions 0..L-1;
  encoder   HF BertModel, post-LN, exact-erf GELU, additive mask (1-m)·finfo.min, dropout 0;
  embedding mean over the attention mask, then L2 normalisation;
  loss      scores = q · [positives of the batch; negatives of every query in the batch]ᵀ / T,
            cross entropy against the query's own positive, mean over queries;
  optimiser clip_grad_norm_(1.0) then torch.optim.AdamW(β=(0.9, 0.999), ε=1e-8, decay 0.01
            on every parameter except biases and LayerNorm weights/biases), constant lr.
Computed in float64 from the float32 initial weights; a float32 torch run of the same code
calibrates the tolerances, and deliberately wrong variants show the check can fail.
"""

import argparse
import csv
import hashlib
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

NO_DECAY = ("bias", "LayerNorm.bias", "LayerNorm.weight")  # sentence-transformers' fit()
CLIP_EPS = 1e-6  # clip_grad_norm_: coef = max_norm / (total_norm + 1e-6), clamped to 1
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SAMPLES_2D = 16  # evenly spaced elements per matrix, plus the TOP_MOVED most changed ones
TOP_MOVED = 8
NOISE_GRAD = 1e-9  # |g| below this in some step (and not exactly 0): Adam turns noise into ±lr

# float32 engine vs this float64 reference; checked against a float32 torch run below.
TOL = {"loss_rel": 1e-5, "grad_norm_rel": 1e-5, "params_abs": 1e-5, "l2_rel": 2e-6}


# ------------------------------------------------------------------------------------------
# Inputs


def read_safetensors(path):
    """{name: (float32 tensor, raw little-endian bytes)} of an F32 safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        b, e = info["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        vals = struct.unpack("<%df" % ((e - b) // 4), raw)
        out[name] = (torch.tensor(vals, dtype=torch.float32).reshape(info["shape"]), raw)
    return out


def params_digest(tensors):
    """sha256 over the keys in sorted order, each as 'key\\n' + its raw float32 bytes."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update((name + "\n").encode("utf-8"))
        h.update(tensors[name][1])
    return h.hexdigest()


def special_ids(model_dir):
    with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
        vocab = {tok.rstrip("\n"): i for i, tok in enumerate(f)}
    return {"cls": vocab["[CLS]"], "sep": vocab["[SEP]"], "pad": vocab["[PAD]"]}


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        negs = [r[k] for k in r if k.startswith("negative") and r[k] != ""]
        out.append({"query": r["anchor"], "positive": r["positive"], "negatives": negs})
    return out


# ------------------------------------------------------------------------------------------
# Batches: NoDuplicatesBatchSampler in file order, drop_last False, epochs back to back


def texts_of(ex):
    return [ex["query"], ex["positive"]] + ex["negatives"]


def epoch_batches(rows, batch_size, dedup=True):
    remaining = list(range(len(rows)))
    batches = []
    while remaining:
        batch, seen = [], set()
        for i in remaining:
            ts = texts_of(rows[i])
            if dedup and any(t in seen for t in ts):
                continue
            batch.append(i)
            seen.update(ts)
            if len(batch) == batch_size:
                break
        remaining = [i for i in remaining if i not in batch]
        batches.append(batch)
    return batches


def plan_steps(rows, batch_size, max_steps, dedup=True):
    plan, epoch = [], 0
    while len(plan) < max_steps:
        for b in epoch_batches(rows, batch_size, dedup):
            if len(plan) < max_steps:
                plan.append({"step": len(plan) + 1, "epoch": epoch, "examples": b})
        epoch += 1
    return plan


def encode(ids_of, text, max_length, sp, keep="head"):
    content = ids_of[text]
    room = max_length - 2
    content = content[:room] if keep == "head" else content[-room:] if len(content) > room else content
    return [sp["cls"]] + content + [sp["sep"]]


# ------------------------------------------------------------------------------------------
# Model: Hugging Face BertModel semantics, dropout 0


def encoder(P, cfg, seqs, pad_id):
    """seqs: lists of token ids → last hidden state [B, L, D] and the mask [B, L]."""
    L = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad_id] * (L - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs])
    B = len(seqs)
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    dh, eps = D // H, cfg["layer_norm_eps"]
    dtype = P["embeddings.word_embeddings.weight"].dtype

    def linear(x, name):
        return x @ P[name + ".weight"].t() + P[name + ".bias"]

    def ln(x, name):
        return F.layer_norm(x, (D,), P[name + ".weight"], P[name + ".bias"], eps)

    x = (P["embeddings.word_embeddings.weight"][ids]
         + P["embeddings.position_embeddings.weight"][torch.arange(L)][None]
         + P["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)])
    x = ln(x, "embeddings.LayerNorm")
    add = (1.0 - mask.to(dtype))[:, None, None, :] * torch.finfo(dtype).min  # [B,1,1,L] over keys
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i

        def heads(t):
            return t.view(B, L, H, dh).transpose(1, 2)  # [B,L,D] -> [B,H,L,dh]

        q, k, v = (heads(linear(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + add, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(B, L, D)  # [B,H,L,dh] -> [B,L,D]
        x = ln(linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        inter = F.gelu(linear(x, p + "intermediate.dense"))  # exact erf
        x = ln(linear(inter, p + "output.dense") + x, p + "output.LayerNorm")
    return x, mask


def embed(P, cfg, seqs, pad_id, pooling="mean"):
    h, mask = encoder(P, cfg, seqs, pad_id)
    if pooling == "cls":
        pooled = h[:, 0]
    else:
        m = mask.to(h.dtype).unsqueeze(-1)
        pooled = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    return F.normalize(pooled, p=2, dim=1)


def mnrl_loss(P, cfg, rows, picks, enc, pad_id, temperature, v):
    q = embed(P, cfg, [enc(rows[i]["query"]) for i in picks], pad_id, v.get("pooling", "mean"))
    pos = embed(P, cfg, [enc(rows[i]["positive"]) for i in picks], pad_id, v.get("pooling", "mean"))
    neg_texts = [(qi, t) for qi, i in enumerate(picks) for t in rows[i]["negatives"]]
    neg = embed(P, cfg, [enc(t) for _, t in neg_texts], pad_id, v.get("pooling", "mean"))
    scores = q @ torch.cat([pos, neg]).t() / temperature  # [B, B + negatives of the batch]
    if v.get("own_negatives_only"):
        owner = torch.tensor([qi for qi, _ in neg_texts])
        keep = torch.cat([torch.ones(len(picks), len(picks), dtype=torch.bool),
                          owner[None, :] == torch.arange(len(picks))[:, None]], 1)
        scores = scores.masked_fill(~keep, float("-inf"))
    return F.cross_entropy(scores, torch.arange(len(picks)))


# ------------------------------------------------------------------------------------------
# Training


def train(P0, cfg, rows, ids_of, sp, s, dtype, v=None):
    v = v or {}
    P = {k: t.clone().to(dtype).requires_grad_(True) for k, t in P0.items()}
    names = sorted(P)
    decay = [n for n in names if v.get("decay_all") or not any(nd in n for nd in NO_DECAY)]
    groups = [{"params": [P[n] for n in decay], "weight_decay": 0.0 if v.get("no_decay") else s["weightDecay"]},
              {"params": [P[n] for n in names if n not in decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=s["lr"], betas=BETAS, eps=ADAM_EPS, foreach=False)
    plan = plan_steps(rows, s["batchSize"], s["maxSteps"], dedup=not v.get("no_dedup"))

    def enc(text):
        return encode(ids_of, text, s["maxLength"], sp, v.get("truncate", "head"))

    log, small = [], {n: torch.zeros(P[n].shape, dtype=torch.bool) for n in names}
    for st in plan:
        opt.zero_grad(set_to_none=True)
        loss = mnrl_loss(P, cfg, rows, st["examples"], enc, sp["pad"], s["temperature"], v)
        loss.backward()
        for n in names:
            g = P[n].grad.abs()
            small[n] |= (g > 0) & (g < NOISE_GRAD)
        max_norm = float("inf") if v.get("no_clip") else s["maxGradNorm"]
        total = float(torch.nn.utils.clip_grad_norm_([P[n] for n in names], max_norm))
        opt.step()
        log.append({"step": st["step"], "loss": float(loss), "grad_norm": total,
                    "clip_coef": min(1.0, s["maxGradNorm"] / (total + CLIP_EPS)), "lr": s["lr"]})
    return {"log": log, "plan": plan, "params": {n: P[n].detach() for n in names}, "small": small}


# ------------------------------------------------------------------------------------------
# Fixture


def sample_indices(ref, init, noise):
    """Flat indices to store: all of a vector; for a matrix, evenly spaced elements plus the
    ones training moved most (so both decay-only and trained entries are checked)."""
    n = ref.numel()
    if ref.dim() == 1:
        return list(range(n))
    even = sorted({round(k * (n - 1) / (SAMPLES_2D - 1)) for k in range(SAMPLES_2D)})
    moved = (ref - init).abs().flatten().masked_fill(noise.flatten(), -1)
    top = moved.topk(TOP_MOVED).indices.tolist()
    return sorted(set(even) | set(top))


def l2_without(t, noise):
    return float(t.double().flatten().masked_fill(noise.flatten(), 0).norm())


def compare(cand, ref, idx, noise):
    """Worst per-step loss / grad-norm relative error, worst sampled-parameter error, worst
    relative error of a tensor's L2 norm (noise elements apart)."""
    loss = max(abs(a["loss"] - b["loss"]) / abs(b["loss"]) for a, b in zip(cand["log"], ref["log"]))
    norm = max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"] for a, b in zip(cand["log"], ref["log"]))
    par = noisy = l2 = 0.0
    for n, ids in idx.items():
        a, b = cand["params"][n].flatten().double(), ref["params"][n].flatten()
        for i in ids:
            d = float((a[i] - b[i]).abs())
            if noise[n].flatten()[i]:
                noisy = max(noisy, d)
            else:
                par = max(par, d)
        want = l2_without(ref["params"][n], noise[n])
        if want > 0:  # 0: every element is noise (the attention key biases)
            l2 = max(l2, abs(l2_without(cand["params"][n], noise[n]) - want) / want)
    return {"loss_rel": loss, "grad_norm_rel": norm, "params_abs": par, "noise_params_abs": noisy, "l2_rel": l2}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="the folder writeRandomBert wrote (run.json's model options)")
    ap.add_argument("--fixture", default=os.path.join(here, "..", "test", "fixtures", "train-20-steps"))
    args = ap.parse_args()
    fx = os.path.normpath(args.fixture)
    with open(os.path.join(fx, "run.json")) as f:
        recipe = json.load(f)
    s = recipe["settings"]
    assert s["schedule"] == "constant" and s["warmup"] == 0 and s["dropout"] == 0 and not s["shuffle"], s
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    m = recipe["model"]
    for key, want in (("hidden_size", m["hidden"]), ("num_hidden_layers", m["layers"]),
                      ("num_attention_heads", m["heads"]), ("intermediate_size", m["intermediate"]),
                      ("hidden_act", "gelu"), ("position_embedding_type", "absolute"), ("model_type", "bert")):
        assert cfg[key] == want, (key, cfg[key], want)
    raw = read_safetensors(os.path.join(args.model, "model.safetensors"))
    P0 = {n: t.double() for n, (t, _) in raw.items()}
    sp = special_ids(args.model)
    rows = read_rows(os.path.join(fx, "dataset.csv"))
    with open(os.path.join(fx, "token-ids.json")) as f:
        ids_of = json.load(f)["texts"]
    missing = {t for r in rows for t in texts_of(r)} - set(ids_of)
    assert not missing, "token-ids.json lacks %s: rerun the test with EMBEDSMITH_TRAIN_FIXTURE_INPUTS" % sorted(missing)[:3]

    ref = train(P0, cfg, rows, ids_of, sp, s, torch.float64)
    f32 = train(P0, cfg, rows, ids_of, sp, s, torch.float32)
    names = sorted(P0)
    noise = {n: ref["small"][n] | f32["small"][n] for n in names}
    idx = {n: sample_indices(ref["params"][n], P0[n], noise[n]) for n in names}
    calib = compare(f32, ref, idx, noise)
    for k, tol in TOL.items():
        assert calib[k] <= tol / 2, ("float32 torch uses more than half the tolerance", k, calib[k], tol)

    wrong = {
        "other queries' negatives left out": {"own_negatives_only": True},
        "no gradient clipping": {"no_clip": True},
        "weight decay on every parameter": {"decay_all": True},
        "no weight decay": {"no_decay": True},
        "CLS pooling instead of mean": {"pooling": "cls"},
        "truncation keeps the end of the text": {"truncate": "tail"},
        "batches without the no-duplicates rule": {"no_dedup": True},
    }
    self_test = {}
    for label, v in wrong.items():
        r = compare(train(P0, cfg, rows, ids_of, sp, s, torch.float64, v), ref, idx, noise)
        caught = [k for k, tol in TOL.items() if r[k] > tol]
        assert caught, ("the fixture cannot tell this variant apart", label, r)
        self_test[label] = {"fails": caught, **{k: float("%.3g" % x) for k, x in r.items()}}

    truncated = sorted(t for t in ids_of if len(ids_of[t]) > s["maxLength"] - 2)
    params = {}
    for n in names:
        flat = ref["params"][n].flatten()
        params[n] = {"shape": list(ref["params"][n].shape), "l2": l2_without(flat, noise[n]), "indices": idx[n],
                     "values": [float(flat[i]) for i in idx[n]], "noise": noise[n].flatten().nonzero().flatten().tolist()}
    expected = {
        "fixture": "train-20-steps",
        "generator": "scripts/make-train-fixture.py",
        "torch_version": torch.__version__,
        "compute_dtype": "float64 (torch), from the float32 initial weights",
        "recipe": recipe,
        "init_params_sha256": params_digest(raw),
        "special_ids": sp,
        "no_decay": [n for n in names if any(nd in n for nd in NO_DECAY)],
        "truncated_texts": truncated,
        "plan": ref["plan"],
        "steps": ref["log"],
        "tolerances": dict(TOL, noise_params_abs=2 * s["lr"] * s["maxSteps"]),
        "float32_torch_vs_reference": {k: float("%.3g" % x) for k, x in calib.items()},
        "self_test": self_test,
        "params": params,
    }
    out = os.path.join(fx, "expected.json")
    with open(out, "w") as f:
        f.write(dump(expected) + "\n")
    print("wrote", out)
    for r in ref["log"]:
        print("step %2d loss %.10f grad_norm %.6f clip %.4f" % (r["step"], r["loss"], r["grad_norm"], r["clip_coef"]))
    print("float32 torch vs reference:", expected["float32_torch_vs_reference"])
    print("noise elements:", {n: int(noise[n].sum()) for n in names if noise[n].any()})
    print("self test:", json.dumps(self_test, indent=1))


def dump(o, ind=0):
    """JSON with each short object and each list of scalars on one line: small, readable diffs."""
    pad = " " * ind
    flat = json.dumps(o, separators=(",", ":") if isinstance(o, list) else (", ", ": "))
    if isinstance(o, dict) and (len(flat) > 160 or any(isinstance(x, dict) for x in o.values())):
        items = [pad + " " + json.dumps(k) + ": " + dump(x, ind + 1) for k, x in o.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(o, list) and any(isinstance(x, dict) for x in o):
        return "[\n" + ",\n".join(pad + " " + dump(x, ind + 1) for x in o) + "\n" + pad + "]"
    return flat


if __name__ == "__main__":
    main()
