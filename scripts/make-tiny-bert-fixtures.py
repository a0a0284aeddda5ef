#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for the engine's parity tests.

    /usr/bin/python3 scripts/make-tiny-bert-fixtures.py [--out test/fixtures]

Needs Debian 12's python3-torch (1.13, CPU) and nothing else: no transformers, no
safetensors, no numpy. (On machines with pyenv, `python3` may not see the Debian
torch; call /usr/bin/python3.)

Writes:
  test/fixtures/tiny-bert-step/       3 AdamW training steps of a tiny BERT with
                                      MultipleNegativesRankingLoss + hard negatives
  test/fixtures/tiny-roberta-forward/ forward pass of a tiny RoBERTa (position ids
                                      from padding_idx), mean pooling + L2 norm
  test/fixtures/webgpu-smoke/         a 1.7 KB ONNX model + expected output for
                                      scripts/webgpu-smoke.cjs (WebGPU EP check)

Everything is computed in float64 from float32-representable initial parameters and
stored as float32. The files, formulas and tolerances are described in the README.md
of each fixture folder. The run is deterministic (single thread, fixed seeds): running
it again rewrites byte-identical files on the same torch build.
"""

import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

SEED = 20261127

BERT_CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "vocab_size": 250,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "initializer_range": 0.02,
    "torch_dtype": "float32",
}

ROBERTA_CONFIG = dict(
    BERT_CONFIG,
    architectures=["RobertaModel"],
    model_type="roberta",
    max_position_embeddings=66,
    type_vocab_size=1,
    layer_norm_eps=1e-05,  # as roberta-base's config.json; differs from BERT on purpose
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
)

# Token ids of the tiny vocabularies.
BERT_IDS = {"pad": 0, "cls": 101, "sep": 102}
ROBERTA_IDS = {"pad": 1, "cls": 0, "sep": 2}  # <s>=0, <pad>=1, </s>=2

SEQ_LEN = 16
N_TRIPLES = 4
N_STEPS = 3
TEMPERATURE = 0.05
LR = 1e-3
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.01
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6)

# ----------------------------------------------------------------------------------
# safetensors, written and read by hand


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor). Stored as little-endian float32 ("F32"), in
    the given order, contiguous, no gaps. Header JSON padded with spaces to a multiple
    of 8 bytes (as the safetensors library does)."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors:
        t = t.detach().to(torch.float32).contiguous().cpu()
        raw = t.numpy().astype("<f4", copy=False).tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        count = (e - b) // 4
        vals = struct.unpack("<%df" % count, data[base + b : base + e])
        out[name] = torch.tensor(vals, dtype=torch.float32).reshape(info["shape"])
    return out


# ----------------------------------------------------------------------------------
# Parameters (Hugging Face BertModel / RobertaModel state_dict keys, no pooler)


def param_shapes(cfg):
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    shapes = [
        ("embeddings.word_embeddings.weight", [V, D]),
        ("embeddings.position_embeddings.weight", [cfg["max_position_embeddings"], D]),
        ("embeddings.token_type_embeddings.weight", [cfg["type_vocab_size"], D]),
        ("embeddings.LayerNorm.weight", [D]),
        ("embeddings.LayerNorm.bias", [D]),
    ]
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        for proj in ("query", "key", "value"):
            shapes += [(p + "attention.self.%s.weight" % proj, [D, D]),
                       (p + "attention.self.%s.bias" % proj, [D])]
        shapes += [
            (p + "attention.output.dense.weight", [D, D]),
            (p + "attention.output.dense.bias", [D]),
            (p + "attention.output.LayerNorm.weight", [D]),
            (p + "attention.output.LayerNorm.bias", [D]),
            (p + "intermediate.dense.weight", [I, D]),  # Linear: [out, in]
            (p + "intermediate.dense.bias", [I]),
            (p + "output.dense.weight", [D, I]),
            (p + "output.dense.bias", [D]),
            (p + "output.LayerNorm.weight", [D]),
            (p + "output.LayerNorm.bias", [D]),
        ]
    return shapes


def is_no_decay(name):
    # sentence-transformers / HF Trainer convention: no decay for every bias and every
    # LayerNorm weight and bias. Embedding tables and Linear weights are decayed.
    return name.endswith(".bias") or ".LayerNorm." in name


def init_params(cfg, seed):
    """Seeded init. Values are rounded to float32 and then widened to float64, so the
    float64 reference starts from exactly the float32 values stored in params.safetensors."""
    g = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in param_shapes(cfg):
        if ".LayerNorm.weight" in name:
            t = 1.0 + 0.1 * torch.randn(shape, generator=g, dtype=torch.float64)
        else:  # weights, embeddings, biases, LayerNorm biases: normal(0, 0.02)
            t = 0.02 * torch.randn(shape, generator=g, dtype=torch.float64)
        params[name] = t.to(torch.float32).to(torch.float64)
    return params


# ----------------------------------------------------------------------------------
# Model (Hugging Face BERT semantics, dropout 0)


def extended_mask(mask, dtype):
    # HF get_extended_attention_mask: (1 - mask) * finfo(dtype).min, broadcast [B,1,1,L]
    return (1.0 - mask.to(dtype))[:, None, None, :] * torch.finfo(dtype).min


def encoder(P, cfg, input_ids, attention_mask, token_type_ids, position_ids):
    dtype = P["embeddings.word_embeddings.weight"].dtype
    eps = cfg["layer_norm_eps"]
    D = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    dh = D // H
    B, L = input_ids.shape

    def linear(x, name):
        return x @ P[name + ".weight"].t() + P[name + ".bias"]

    def ln(x, name):
        return F.layer_norm(x, (D,), P[name + ".weight"], P[name + ".bias"], eps)

    x = (P["embeddings.word_embeddings.weight"][input_ids]
         + P["embeddings.position_embeddings.weight"][position_ids]
         + P["embeddings.token_type_embeddings.weight"][token_type_ids])
    x = ln(x, "embeddings.LayerNorm")
    add_mask = extended_mask(attention_mask, dtype)
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i

        def heads(t):
            return t.view(B, L, H, dh).permute(0, 2, 1, 3)  # [B, H, L, dh]

        q = heads(linear(x, p + "attention.self.query"))
        k = heads(linear(x, p + "attention.self.key"))
        v = heads(linear(x, p + "attention.self.value"))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + add_mask
        probs = torch.softmax(scores, dim=-1)  # over keys
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, L, D)
        x = ln(linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        inter = F.gelu(linear(x, p + "intermediate.dense"))  # exact erf GELU
        x = ln(linear(inter, p + "output.dense") + x, p + "output.LayerNorm")
    return x  # last_hidden_state [B, L, D]


def bert_position_ids(input_ids):
    B, L = input_ids.shape
    return torch.arange(L).unsqueeze(0).expand(B, L)


def roberta_position_ids(input_ids, padding_idx):
    # HF create_position_ids_from_input_ids: mask from input_ids != padding_idx
    mask = input_ids.ne(padding_idx).long()
    return torch.cumsum(mask, dim=1) * mask + padding_idx


def mean_pool_normalize(h, attention_mask):
    m = attention_mask.to(h.dtype).unsqueeze(-1)
    pooled = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    return F.normalize(pooled, p=2, dim=1)  # x / max(||x||, 1e-12)


def embed_bert(P, cfg, enc):
    ids = torch.tensor(enc["input_ids"])
    mask = torch.tensor(enc["attention_mask"])
    tt = torch.tensor(enc["token_type_ids"])
    h = encoder(P, cfg, ids, mask, tt, bert_position_ids(ids))
    return mean_pool_normalize(h, mask)


def mnrl_loss(P, cfg, batch):
    q = embed_bert(P, cfg, batch["queries"])
    pos = embed_bert(P, cfg, batch["positives"])
    neg = embed_bert(P, cfg, batch["negatives"])
    docs = torch.cat([pos, neg], 0)  # 8 candidates: 4 positives then 4 negatives
    # cos_sim of L2-normalised vectors is their dot product
    scores = (q @ docs.t()) / TEMPERATURE
    labels = torch.arange(q.shape[0])
    return F.cross_entropy(scores, labels), (q, pos, neg, scores)


# ----------------------------------------------------------------------------------
# Batches


def make_sequence(g, length, ids, content_lo, content_hi):
    """[CLS] content... [SEP] then padding to SEQ_LEN; length counts CLS and SEP."""
    n = length - 2
    content = torch.randint(content_lo, content_hi, (n,), generator=g).tolist()
    content = [c if c not in (ids["cls"], ids["sep"], ids["pad"]) else c + 3 for c in content]
    if n >= 4:  # a repeated token inside one sequence (gradient accumulation check)
        content[-1] = content[0]
    tokens = [ids["cls"]] + content + [ids["sep"]]
    pad = SEQ_LEN - length
    return {
        "input_ids": tokens + [ids["pad"]] * pad,
        "attention_mask": [1] * length + [0] * pad,
        "token_type_ids": [0] * SEQ_LEN,
    }


def make_group(g, lengths, ids, lo, hi):
    seqs = [make_sequence(g, n, ids, lo, hi) for n in lengths]
    return {k: [s[k] for s in seqs] for k in ("input_ids", "attention_mask", "token_type_ids")}


def make_bert_batches(seed):
    g = torch.Generator().manual_seed(seed + 1)
    # Fixed lengths so every step has a full-length (unpadded) and a short sequence.
    lengths = [
        {"queries": [16, 5, 9, 12], "positives": [11, 16, 7, 14], "negatives": [6, 13, 16, 4]},
        {"queries": [8, 16, 3, 10], "positives": [16, 12, 9, 5], "negatives": [15, 7, 11, 16]},
        {"queries": [13, 6, 16, 7], "positives": [9, 15, 16, 10], "negatives": [16, 4, 8, 12]},
    ]
    steps = []
    for s in range(N_STEPS):
        step = {"step": s + 1}
        for role in ("queries", "positives", "negatives"):
            step[role] = make_group(g, lengths[s][role], BERT_IDS, 1, BERT_CONFIG["vocab_size"])
        # Make positives share a few tokens with their queries, so the loss is not ~log 8.
        for i in range(N_TRIPLES):
            qi = step["queries"]["input_ids"][i]
            pi = step["positives"]["input_ids"][i]
            q_len = sum(step["queries"]["attention_mask"][i])
            p_len = sum(step["positives"]["attention_mask"][i])
            for j in range(1, min(q_len, p_len) - 1, 2):
                pi[j] = qi[j]
        steps.append(step)
    return steps


# ----------------------------------------------------------------------------------
# Training


def train(P0, batches, max_norm, dtype):
    P = {k: v.clone().to(dtype).requires_grad_(True) for k, v in P0.items()}
    names = list(P.keys())
    decay = [P[n] for n in names if not is_no_decay(n)]
    no_decay = [P[n] for n in names if is_no_decay(n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=ADAM_EPS, foreach=False)
    log = []
    grads1 = None
    forward1 = None
    snapshots = [{n: P[n].detach().clone() for n in names}]
    grads_per_step = []
    for batch in batches:
        opt.zero_grad(set_to_none=True)
        loss, outs = mnrl_loss(P, BERT_CONFIG, batch)
        loss.backward()
        grads = {n: P[n].grad.detach().clone() for n in names}
        grads_per_step.append(grads)
        if grads1 is None:
            grads1 = grads
            forward1 = [t.detach().clone() for t in outs]
        total = torch.nn.utils.clip_grad_norm_([P[n] for n in names], max_norm)
        total = float(total)
        coef = max_norm / (total + CLIP_EPS)
        opt.step()
        snapshots.append({n: P[n].detach().clone() for n in names})
        log.append({"loss": float(loss), "grad_norm": total,
                    "clip_coef": min(coef, 1.0), "clipped": coef < 1.0})
    return {"log": log, "grads1": grads1, "forward1": forward1, "snapshots": snapshots,
            "grads": grads_per_step, "names": names}


def choose_max_norm(P0, batches):
    """A 'nice' max_norm for which clipping triggers on some steps and not on others,
    each step at least 10% away from the threshold (robust for a float32 engine)."""
    nice = [m * 10.0 ** e for e in range(-2, 3) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)]
    best = None
    for mn in sorted(nice):
        r = train(P0, batches, mn, torch.float64)
        norms = [s["grad_norm"] for s in r["log"]]
        clipped = [n > mn for n in norms]
        margin = min(abs(n / mn - 1.0) for n in norms)
        if any(clipped) and not all(clipped) and margin >= 0.10:
            return mn, r
        if any(clipped) and margin >= 0.10 and best is None:
            best = (mn, r)
    if best is None:
        raise SystemExit("no max_norm found with clipping and margin")
    return best


def max_abs_diff(a, b):
    return max(float((a[n].double() - b[n].double()).abs().max()) for n in a)


def per_tensor_max_abs(a, b):
    return {n: float((a[n].double() - b[n].double()).abs().max()) for n in a}


def l2(t):
    return float(t.double().norm())


# ----------------------------------------------------------------------------------


def json_dump(path, obj):
    """Indented JSON with every list of scalars on one line (small, still readable)."""
    def enc(o, ind):
        pad = " " * ind
        if isinstance(o, dict):
            if not o:
                return "{}"
            items = [pad + " " + json.dumps(k) + ": " + enc(v, ind + 1) for k, v in o.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, list) and any(isinstance(v, (dict, list)) for v in o):
            return "[\n" + ",\n".join(pad + " " + enc(v, ind + 1) for v in o) + "\n" + pad + "]"
        return json.dumps(o, separators=(",", ":") if isinstance(o, list) else (", ", ": "))
    with open(path, "w") as f:
        f.write(enc(obj, 0) + "\n")


def compact_batches_json(path, header, steps):
    """batches.json with one sequence per line (readable diff, small file)."""
    lines = ["{"]
    for k, v in header.items():
        lines.append(' %s: %s,' % (json.dumps(k), json.dumps(v)))
    lines.append(' "steps": [')
    for si, step in enumerate(steps):
        lines.append('  {"step": %d,' % step["step"])
        roles = ("queries", "positives", "negatives")
        for ri, role in enumerate(roles):
            lines.append('   %s: {' % json.dumps(role))
            keys = ("input_ids", "attention_mask", "token_type_ids")
            for ki, key in enumerate(keys):
                rows = ",\n     ".join(json.dumps(r, separators=(",", ":")) for r in step[role][key])
                lines.append('    %s: [\n     %s]%s' % (json.dumps(key), rows, "," if ki < 2 else ""))
            lines.append('   }%s' % ("," if ri < 2 else ""))
        lines.append('  }%s' % ("," if si < len(steps) - 1 else ""))
    lines.append(" ]")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# Tolerances for a float32 engine against the float64 reference (see README.md).
TOL = {
    "loss_abs": 2e-5,
    "grad_norm_rel": 1e-5,
    "embeddings_abs": 1e-5,
    "scores_abs": 2e-4,
    "grads_step1_abs": 1e-6,
    "grads_step1_rel_to_tensor_max": 1e-5,
    "params_after3_abs": 2e-5,
    "params_after3_layernorm_abs": 3e-6,
    "params_after3_noise_abs": 2e-2,
    "zero_grad_rows_rel": 2e-6,
    "adam_noise_grad_threshold": 1e-7,
}


def round_sig(x, digits=7):
    return float("%.*g" % (digits, x))


def check_bert(cand, ref, P0, noise, zero_rows):
    """Apply the README's tolerance rules to a candidate run. cand / ref: dicts with
    'log' (loss, grad_norm, clipped per step), 'grads1', 'forward1', 'final'.
    Returns {rule: worst |error| / tolerance}; a value > 1 is a failure."""
    worst = {}

    def note(rule, ratio):
        worst[rule] = max(worst.get(rule, 0.0), float(ratio))

    for a, b in zip(cand["log"], ref["log"]):
        note("loss", abs(a["loss"] - b["loss"]) / TOL["loss_abs"])
        note("grad_norm", abs(a["grad_norm"] / b["grad_norm"] - 1) / TOL["grad_norm_rel"])
        note("clipped", 0.0 if a["clipped"] == b["clipped"] else math.inf)
    for x, y, tol in zip(cand["forward1"], ref["forward1"],
                         [TOL["embeddings_abs"]] * 3 + [TOL["scores_abs"]]):
        note("forward_step1", float((x.double() - y.double()).abs().max()) / tol)
    for n, g in ref["grads1"].items():
        tol = TOL["grads_step1_abs"] + TOL["grads_step1_rel_to_tensor_max"] * float(g.abs().max())
        note("grads_step1", float((cand["grads1"][n].double() - g.double()).abs().max()) / tol)
    decay3 = (1 - LR * WEIGHT_DECAY) ** 3
    for n, r in ref["final"].items():
        d = (cand["final"][n].double() - r.double()).abs().flatten()
        keep = torch.ones_like(d, dtype=torch.bool)
        if n in noise:
            idx = torch.tensor(noise[n], dtype=torch.long)
            note("params_after3_noise", float(d[idx].max()) / TOL["params_after3_noise_abs"])
            keep[idx] = False
        if keep.any():
            if ".LayerNorm." in n:
                note("params_after3_layernorm", float(d[keep].max()) / TOL["params_after3_layernorm_abs"])
            else:
                note("params_after3", float(d[keep].max()) / TOL["params_after3_abs"])
        if n in zero_rows:
            rows = torch.tensor(zero_rows[n], dtype=torch.long)
            want = P0[n][rows].double() * decay3
            got = cand["final"][n][rows].double()
            note("zero_grad_rows", float(((got - want).abs() / want.abs().clamp(min=1e-30)).max())
                 / TOL["zero_grad_rows_rel"])
    return {k: round_sig(v, 3) if math.isfinite(v) else "inf" for k, v in worst.items()}


def summary(run):
    return {"log": run["log"], "grads1": run["grads1"], "forward1": run["forward1"],
            "final": run["snapshots"][-1]}


def make_bert_fixture(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cfg = BERT_CONFIG
    P0 = init_params(cfg, SEED)
    batches = make_bert_batches(SEED)
    max_norm, ref = choose_max_norm(P0, batches)
    names = ref["names"]
    final = ref["snapshots"][-1]

    # Elements whose Adam update is dominated by float rounding: some step has a
    # gradient with 0 < |g| < threshold (Adam divides by |g| + eps). This includes every
    # attention.self.key.bias element (true gradient 0, softmax is shift invariant).
    noise = {}
    for n in names:
        g = torch.stack([gr[n].abs().flatten() for gr in ref["grads"]])
        bad = ((g > 0) & (g < TOL["adam_noise_grad_threshold"])).any(0)
        if bad.any():
            noise[n] = bad.nonzero().flatten().tolist()
    # Rows with exactly zero gradient in all 3 steps (never looked up at a real token):
    # after 3 steps they are initial * (1 - lr*wd)^3.
    used_ids = sorted({t for b in batches for r in ("queries", "positives", "negatives")
                       for seq, m in zip(b[r]["input_ids"], b[r]["attention_mask"])
                       for t, mm in zip(seq, m) if mm})
    zero_rows = {}
    for n in ("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
              "embeddings.token_type_embeddings.weight"):
        rows = [i for i in range(P0[n].shape[0])
                if all(float(gr[n][i].abs().max()) == 0.0 for gr in ref["grads"])]
        if rows:
            zero_rows[n] = rows
    assert zero_rows["embeddings.word_embeddings.weight"] == \
        [i for i in range(cfg["vocab_size"]) if i not in used_ids]

    # Tolerance calibration: the same three steps in float32 torch.
    r32 = train(P0, batches, max_norm, torch.float32)

    # Sensitivity: engines with a known mistake must fail the rules.
    def train_variant(wd_of, clip=True):
        P = {k: v.clone().requires_grad_(True) for k, v in P0.items()}
        groups = {}
        for n in names:
            groups.setdefault(wd_of(n), []).append(P[n])
        opt = torch.optim.AdamW([{"params": ps, "weight_decay": wd} for wd, ps in groups.items()],
                                lr=LR, betas=BETAS, eps=ADAM_EPS, foreach=False)
        log, grads1, fwd1 = [], None, None
        for batch in batches:
            opt.zero_grad(set_to_none=True)
            loss, outs = mnrl_loss(P, cfg, batch)
            loss.backward()
            if grads1 is None:
                grads1 = {n: P[n].grad.detach().clone() for n in names}
                fwd1 = [t.detach() for t in outs]
            total = float(torch.nn.utils.clip_grad_norm_(
                [P[n] for n in names], max_norm if clip else float("inf")))
            log.append({"loss": float(loss), "grad_norm": total, "clipped": total > max_norm})
            opt.step()
        return {"log": log, "grads1": grads1, "forward1": fwd1,
                "final": {n: P[n].detach() for n in names}}

    wd_ok = lambda n: 0.0 if is_no_decay(n) else WEIGHT_DECAY
    variants = {
        "no_clipping": train_variant(wd_ok, clip=False),
        "weight_decay_on_every_tensor": train_variant(lambda n: WEIGHT_DECAY),
        "no_weight_decay": train_variant(lambda n: 0.0),
        "weight_decay_on_layernorm_too": train_variant(
            lambda n: WEIGHT_DECAY if (not n.endswith(".bias")) else 0.0),
    }
    ref_s = summary(ref)
    self_test = {"float32_torch (must pass)": check_bert(summary(r32), ref_s, P0, noise, zero_rows)}
    for k, v in variants.items():
        res = check_bert(v, ref_s, P0, noise, zero_rows)
        # the 'clipped' and 'loss' rules see the variant's own (unclipped) decisions
        self_test[k + " (must fail)"] = {r: x for r, x in res.items() if x == "inf" or x > 1}
    assert all(x <= 1 for x in self_test["float32_torch (must pass)"].values()), self_test
    assert all(self_test[k] for k in self_test if k.endswith("(must fail)")), self_test

    write_safetensors(os.path.join(out_dir, "params.safetensors"),
                      [(n, P0[n]) for n in names], {"format": "pt"})
    write_safetensors(os.path.join(out_dir, "grads-step1.safetensors"),
                      [(n, ref["grads1"][n]) for n in names], {"format": "pt"})
    write_safetensors(os.path.join(out_dir, "params-after3.safetensors"),
                      [(n, final[n]) for n in names], {"format": "pt"})
    q, pos, neg, scores = ref["forward1"]
    write_safetensors(os.path.join(out_dir, "forward-step1.safetensors"),
                      [("query_embeddings", q), ("positive_embeddings", pos),
                       ("negative_embeddings", neg), ("scores", scores)], {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    compact_batches_json(os.path.join(out_dir, "batches.json"),
                         {"seq_len": SEQ_LEN, "pad_token_id": BERT_IDS["pad"],
                          "cls_token_id": BERT_IDS["cls"], "sep_token_id": BERT_IDS["sep"]},
                         batches)

    steps = []
    for t, entry in enumerate(ref["log"], start=1):
        before, after = ref["snapshots"][t - 1], ref["snapshots"][t]
        steps.append({
            "step": t,
            "loss": entry["loss"],
            "grad_norm": entry["grad_norm"],
            "clipped": entry["clipped"],
            "clip_coef": entry["clip_coef"],
            "lr": LR,
            "adam_step_size": LR / (1 - BETAS[0] ** t),
            "adam_inv_sqrt_bias_correction2": 1 / math.sqrt(1 - BETAS[1] ** t),
            "decay_factor": 1 - LR * WEIGHT_DECAY,
            "grad_l2": [round_sig(l2(ref["grads"][t - 1][n])) for n in names],
            "update_l2": [round_sig(l2(after[n] - before[n])) for n in names],
        })

    grads32_dev = per_tensor_max_abs(r32["grads1"], ref["grads1"])
    after32_dev = per_tensor_max_abs(r32["snapshots"][-1], final)
    expected = {
        "fixture": "tiny-bert-step",
        "generator": "scripts/make-tiny-bert-fixtures.py",
        "seed": SEED,
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "compute_dtype": "float64 (torch), from float32-rounded initial params; stored float32",
        "config": cfg,
        "token_ids": {"pad": BERT_IDS["pad"], "cls": BERT_IDS["cls"], "sep": BERT_IDS["sep"]},
        "attention_mask_fill": {
            "formula": "(1 - mask) * torch.finfo(dtype).min, added to QK^T/sqrt(head_dim)",
            "float64_value_used": torch.finfo(torch.float64).min,
            "float32_value": torch.finfo(torch.float32).min,
        },
        "loss": {
            "name": "MultipleNegativesRankingLoss with hard negatives",
            "pooling": "mean over attention_mask, then L2 normalisation",
            "temperature": TEMPERATURE,
            "candidates": "columns 0..3 = positives 0..3, columns 4..7 = negatives 0..3",
            "label_of_query_i": "i",
            "reduction": "mean over the 4 queries",
        },
        "optimizer": {
            "name": "torch.optim.AdamW (foreach=False)",
            "lr": LR, "betas": list(BETAS), "eps": ADAM_EPS,
            "weight_decay": WEIGHT_DECAY,
            "no_decay": "every *.bias and every *.LayerNorm.weight / *.LayerNorm.bias",
            "schedule": "constant lr, no warmup",
            "max_grad_norm": max_norm,
            "clip": "total = sqrt(sum of all grad^2); coef = max_norm / (total + 1e-6); "
                    "grads *= min(coef, 1)",
        },
        "param_names": names,
        "no_decay_names": [n for n in names if is_no_decay(n)],
        "steps": steps,
        "tolerances": TOL,
        "adam_noise_elements": {
            "note": "flat (row-major) indices per tensor: some step has 0 < |grad| < "
                    "adam_noise_grad_threshold in the reference; their Adam update is "
                    "rounding noise. Compared against params_after3_noise_abs only.",
            "indices": noise,
        },
        "zero_grad_rows": {
            "note": "rows whose gradient is exactly 0 in all 3 steps (never looked up at "
                    "a mask-1 token); after 3 steps = initial * (1 - lr*wd)^3",
            "rows": zero_rows,
        },
        "float32_torch_vs_reference": {
            "loss_abs_diff": [abs(a["loss"] - b["loss"]) for a, b in zip(r32["log"], ref["log"])],
            "grad_norm_rel_diff": [abs(a["grad_norm"] / b["grad_norm"] - 1)
                                   for a, b in zip(r32["log"], ref["log"])],
            "grads_step1_max_abs_diff": [round_sig(grads32_dev[n], 3) for n in names],
            "params_after3_max_abs_diff": [round_sig(after32_dev[n], 3) for n in names],
        },
        "sensitivity_max_abs_params_after3": {
            k: round_sig(max_abs_diff(v["final"], final), 3) for k, v in variants.items()},
        "self_test": self_test,
    }
    json_dump(os.path.join(out_dir, "expected.json"), expected)

    # Round trip check of what was written.
    back = read_safetensors(os.path.join(out_dir, "params.safetensors"))
    assert all(torch.equal(back[n].double(), P0[n]) for n in names)
    return expected


def make_roberta_fixture(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cfg = ROBERTA_CONFIG
    P = init_params(cfg, SEED + 1000)
    names = [n for n, _ in param_shapes(cfg)]
    g = torch.Generator().manual_seed(SEED + 1001)
    batch = make_group(g, [16, 7, 11, 3], ROBERTA_IDS, 3, cfg["vocab_size"])
    ids = torch.tensor(batch["input_ids"])
    mask = torch.tensor(batch["attention_mask"])
    tt = torch.tensor(batch["token_type_ids"])
    pos = roberta_position_ids(ids, cfg["pad_token_id"])
    assert torch.equal(pos, torch.cumsum(mask, 1) * mask + cfg["pad_token_id"])
    with torch.no_grad():
        h = encoder(P, cfg, ids, mask, tt, pos)
        emb = mean_pool_normalize(h, mask)
        # float32 torch, for the tolerance note
        P32 = {k: v.float() for k, v in P.items()}
        h32 = encoder(P32, cfg, ids, mask, tt, pos)
        emb32 = mean_pool_normalize(h32, mask)
        # Sensitivity: common mistakes and how far they move the sentence embedding.
        wrong = {
            "bert_position_ids_0_to_15": encoder(P, cfg, ids, mask, tt, bert_position_ids(ids)),
            "layer_norm_eps_1e-12": encoder(P, dict(cfg, layer_norm_eps=1e-12), ids, mask, tt, pos),
        }
        sens = {k: round_sig(float((mean_pool_normalize(v, mask) - emb).abs().max()), 3)
                for k, v in wrong.items()}
    write_safetensors(os.path.join(out_dir, "params.safetensors"),
                      [(n, P[n]) for n in names], {"format": "pt"})
    write_safetensors(os.path.join(out_dir, "outputs.safetensors"),
                      [("sentence_embedding", emb), ("first_token_hidden_state", h[:, 0, :])],
                      {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    batch_out = dict(batch)
    batch_out["position_ids"] = pos.tolist()
    lines = ["{"]
    lines.append(' "seq_len": %d, "pad_token_id": %d, "cls_token_id": %d, "sep_token_id": %d,'
                 % (SEQ_LEN, ROBERTA_IDS["pad"], ROBERTA_IDS["cls"], ROBERTA_IDS["sep"]))
    keys = ("input_ids", "attention_mask", "token_type_ids", "position_ids")
    for ki, key in enumerate(keys):
        rows = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in batch_out[key])
        lines.append(' %s: [\n  %s]%s' % (json.dumps(key), rows, "," if ki < len(keys) - 1 else ""))
    lines.append("}")
    with open(os.path.join(out_dir, "batch.json"), "w") as f:
        f.write("\n".join(lines) + "\n")
    m3 = mask.double().unsqueeze(-1)
    expected = {
        "fixture": "tiny-roberta-forward",
        "generator": "scripts/make-tiny-bert-fixtures.py",
        "seed": SEED + 1000,
        "batch_seed": SEED + 1001,
        "torch_version": torch.__version__,
        "compute_dtype": "float64 (torch), from float32-rounded params; stored float32",
        "config": cfg,
        "position_ids": "cumsum(input_ids != pad, dim=1) * (input_ids != pad) + pad_token_id "
                        "(HF create_position_ids_from_input_ids); here equal to "
                        "cumsum(attention_mask) * attention_mask + 1",
        "pooling": "mean over attention_mask, then L2 normalisation",
        "tolerances": {"sentence_embedding_abs": 1e-5, "first_token_hidden_state_abs": 2e-5},
        "sensitivity_sentence_embedding_max_abs": sens,
        "float32_torch_vs_reference": {
            "sentence_embedding_max_abs_diff": float((emb32.double() - emb).abs().max()),
            "first_token_hidden_state_max_abs_diff": float((h32[:, 0].double() - h[:, 0]).abs().max()),
            "last_hidden_state_max_abs_diff_real_tokens": float(((h32.double() - h) * m3).abs().max()),
        },
    }
    json_dump(os.path.join(out_dir, "expected.json"), expected)
    return expected


def make_webgpu_smoke_fixture(out_dir):
    """A 1.7 KB ONNX model (Gemm, exact-erf GELU, LayerNormalization, Softmax; opset 17)
    with its expected output, for scripts/webgpu-smoke.cjs (WebGPU EP vs CPU EP)."""
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)

    class Smoke(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = torch.nn.Linear(8, 16)
            self.ln = torch.nn.LayerNorm(16)

        def forward(self, x):
            return torch.softmax(self.ln(F.gelu(self.l(x))), -1)

    m = Smoke().eval()
    x = torch.sin(torch.arange(24, dtype=torch.float64)).float().reshape(3, 8)
    torch.onnx.export(m, (x,), os.path.join(out_dir, "model.onnx"), input_names=["x"],
                      output_names=["y"], opset_version=17)
    with torch.no_grad():
        y = m.double()(x.double())
    json_dump(os.path.join(out_dir, "expected.json"), {
        "model": "model.onnx: y = Softmax(LayerNorm(GELU_erf(Gemm(x))), axis -1), opset 17",
        "input": {"name": "x", "dims": [3, 8], "data": "float32(Math.sin(i)), i = 0..23"},
        "output": {"name": "y", "dims": [3, 16],
                   "data_float64": [float(v) for v in y.flatten()]},
        "tolerance_abs": 1e-5,
    })


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "test", "fixtures"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    e = make_bert_fixture(os.path.join(out, "tiny-bert-step"))
    r = make_roberta_fixture(os.path.join(out, "tiny-roberta-forward"))
    make_webgpu_smoke_fixture(os.path.join(out, "webgpu-smoke"))
    print("torch", torch.__version__)
    print("max_grad_norm", e["optimizer"]["max_grad_norm"])
    for s in e["steps"]:
        print("step %d loss %.12f grad_norm %.9f clipped %s coef %.6f"
              % (s["step"], s["loss"], s["grad_norm"], s["clipped"], s["clip_coef"]))
    print("noise elements:", {k: len(v) for k, v in e["adam_noise_elements"]["indices"].items()})
    print("self test:", json.dumps(e["self_test"], indent=1))
    print("sensitivity:", json.dumps(e["sensitivity_max_abs_params_after3"]))
    print("roberta float32 vs ref:", json.dumps(r["float32_torch_vs_reference"]))


if __name__ == "__main__":
    main()
