#!/usr/bin/python3
"""PyTorch references for the MPNet, ModernBERT, Qwen3 and Gemma 3 encoders (nn/mpnet.ts, nn/modernbert.ts, nn/qwen3.ts, nn/gemma3.ts).

    python3 scripts/make-family-fixtures.py [--out test/fixtures]

Needs torch (Debian 12's python3-torch 1.13, CPU) and nothing else: the models below are
written here from the architecture descriptions (MPNet: BERT's post-LN layers, RoBERTa's
position ids, one T5-bucketed relative-position bias shared by all layers; ModernBERT:
pre-LN layers, rotary positions with a global and a local base, alternating global and
sliding-window attention, GeGLU, optional biases, embedding and final norms; Qwen3: pre-norm
decoder layers with RMSNorm, causal attention, per-head q/k RMSNorm, rotary positions,
grouped-query attention, SwiGLU, no biases, last-token pooling; Gemma 3 as EmbeddingGemma: bidirectional,
RMSNorm with (1 + w) before and after attention and MLP, q/k norms, GQA, tanh-GELU GeGLU, sliding-window
layers between global ones with two rotary bases, scaled embeddings, then mean pooling and Dense modules),
never from transformers' code. The file formats and helpers are make-tiny-bert-fixtures.py's.

Writes, per fixture folder (tiny-mpnet-step, tiny-modernbert-step, tiny-modernbert-bias-step,
tiny-qwen3-step, tiny-gemma3-step, tiny-gemma3-causal-step):
  config.json               the tiny model's Hugging Face config
  params.safetensors        initial parameters (float32, checkpoint key names)
  batches.json              3 steps of 4 (query, positive, negative) rows, length 16
  grads-step1.safetensors   step-1 gradients before clipping
  params-after3.safetensors parameters after 3 clipped AdamW steps
  expected.json             losses, grad norms, step scalars, step-1 embeddings, no-decay
                            names, Adam-noise elements, tolerances (tiny-bert-step's), and
                            the float32-torch calibration against them
Everything is computed in float64 from float32-representable initial parameters; the run
is deterministic.
"""

import argparse
import importlib.util
import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bertfx", os.path.join(HERE, "make-tiny-bert-fixtures.py"))
bertfx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bertfx)
write_safetensors, json_dump, extended_mask = bertfx.write_safetensors, bertfx.json_dump, bertfx.extended_mask

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

SEQ_LEN, N_TRIPLES, N_STEPS = 16, 4, 3
TEMPERATURE, LR, BETAS, ADAM_EPS, WEIGHT_DECAY, CLIP_EPS = 0.05, 1e-3, (0.9, 0.999), 1e-8, 0.01, 1e-6
NOISE_GRAD = 1e-7
# tiny-bert-step's tolerances (its README says why each one), plus the cosine of issue 17.
TOL = {"loss_abs": 2e-5, "grad_norm_rel": 1e-5, "embeddings_abs": 1e-5, "embeddings_min_cos": 0.99999,
       "grads_step1_abs": 1e-6, "grads_step1_rel_to_tensor_max": 1e-5, "params_after3_abs": 2e-5,
       "params_after3_norm_abs": 3e-6, "params_after3_noise_abs": 2e-2}

MPNET = {
    "architectures": ["MPNetModel"], "model_type": "mpnet", "vocab_size": 100, "hidden_size": 32,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
    # 160 + pad + 1 positions: the long forward batch reaches past MPNet's max distance 128.
    "max_position_embeddings": 162, "layer_norm_eps": 1e-5, "relative_attention_num_buckets": 32,
    "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "initializer_range": 0.02,
}
MODERNBERT = {
    "architectures": ["ModernBertModel"], "model_type": "modernbert", "vocab_size": 100, "hidden_size": 32,
    "intermediate_size": 24, "num_hidden_layers": 4, "num_attention_heads": 4, "hidden_activation": "gelu",
    "max_position_embeddings": 64, "norm_eps": 1e-5, "norm_bias": False, "attention_bias": False, "mlp_bias": False,
    "global_rope_theta": 160000.0, "local_rope_theta": 10000.0, "global_attn_every_n_layers": 3, "local_attention": 6,
    "embedding_dropout": 0.0, "attention_dropout": 0.0, "mlp_dropout": 0.0, "pad_token_id": 0,
    "bos_token_id": 1, "cls_token_id": 1, "eos_token_id": 2, "sep_token_id": 2, "classifier_pooling": "mean",
    "position_embedding_type": "absolute", "layer_norm_eps": 1e-5,
}
# Every switch the other way: biases everywhere, global every 2nd layer, a wider window, small bases. (Mean
# pooling: with CLS pooling a tiny random pre-LN model embeds every row alike, gradients ~1e-5.)
MODERNBERT_BIAS = dict(MODERNBERT, num_hidden_layers=3, norm_bias=True, attention_bias=True, mlp_bias=True,
                       global_attn_every_n_layers=2, local_attention=8, global_rope_theta=500.0, local_rope_theta=50.0)

# Qwen3-Embedding's layout at toy size: 4 query heads on 2 kv heads, head_dim 12 (not 32 / 4),
# tied embeddings, sliding window configured but off (as the released configs have it).
QWEN3 = {
    "architectures": ["Qwen3Model"], "model_type": "qwen3", "vocab_size": 100, "hidden_size": 32,
    "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 12, "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
    "rope_theta": 1000.0, "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0,
    "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2, "tie_word_embeddings": True,
    "use_cache": True, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "initializer_range": 0.02,
}

# EmbeddingGemma's layout at toy size: bidirectional, sliding window 6 (distance <= 3 each way) on
# layers 0, 1 and 3, global layer 2, rotary bases 1000 (global) and 50 (local), 4 query heads on
# 2 kv heads of width 12, query_pre_attn_scalar 8 (not head_dim), tanh GELU; then the
# sentence-transformers Dense modules 32 -> 48 (no bias) -> 24 (with a bias, to exercise it).
GEMMA3 = {
    "architectures": ["Gemma3TextModel"], "model_type": "gemma3_text", "vocab_size": 100, "hidden_size": 32,
    "intermediate_size": 48, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 12, "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
    "rope_theta": 1000.0, "rope_local_base_freq": 50.0, "rope_scaling": None, "query_pre_attn_scalar": 8,
    "sliding_window": 6, "layer_types": ["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"],
    "use_bidirectional_attention": True, "attention_bias": False, "attention_dropout": 0.0,
    "attn_logit_softcapping": None, "final_logit_softcapping": None, "_sliding_window_pattern": 3,
    "use_cache": True, "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 1, "initializer_range": 0.02,
}
GEMMA3_DENSE = [(32, 48, False), (48, 24, True)]
# The switch the other way: use_bidirectional_attention false (a Gemma 3 text generator read for its
# hidden states): causal attention, sliding layers see themselves and the 4 keys before (window 5),
# global on layers 1 and 3 (sliding_window_pattern 2 counted from 1), one kv head.
GEMMA3_CAUSAL = dict(GEMMA3, use_bidirectional_attention=False, sliding_window=5, num_key_value_heads=1,
                     layer_types=["sliding_attention", "full_attention", "sliding_attention", "full_attention"])

# ------------------------------------------------------------------------------------------
# Parameters


def mpnet_shapes(c):
    D, I = c["hidden_size"], c["intermediate_size"]
    s = [("embeddings.word_embeddings.weight", [c["vocab_size"], D]),
         ("embeddings.position_embeddings.weight", [c["max_position_embeddings"], D]),
         ("embeddings.LayerNorm.weight", [D]), ("embeddings.LayerNorm.bias", [D])]
    for i in range(c["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        for n in "qkvo":
            s += [(p + "attention.attn.%s.weight" % n, [D, D]), (p + "attention.attn.%s.bias" % n, [D])]
        s += [(p + "attention.LayerNorm.weight", [D]), (p + "attention.LayerNorm.bias", [D]),
              (p + "intermediate.dense.weight", [I, D]), (p + "intermediate.dense.bias", [I]),
              (p + "output.dense.weight", [D, I]), (p + "output.dense.bias", [D]),
              (p + "output.LayerNorm.weight", [D]), (p + "output.LayerNorm.bias", [D])]
    return s + [("encoder.relative_attention_bias.weight", [c["relative_attention_num_buckets"], c["num_attention_heads"]])]


def modernbert_shapes(c):
    D, I = c["hidden_size"], c["intermediate_size"]
    s = []

    def lin(k, o, i, bias):
        s.append((k + ".weight", [o, i]))
        if bias:
            s.append((k + ".bias", [o]))

    def norm(k):
        s.append((k + ".weight", [D]))
        if c["norm_bias"]:
            s.append((k + ".bias", [D]))

    s.append(("embeddings.tok_embeddings.weight", [c["vocab_size"], D]))
    norm("embeddings.norm")
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        if i > 0:  # layer 0 has no attention norm: the embedding norm precedes it
            norm(p + "attn_norm")
        lin(p + "attn.Wqkv", 3 * D, D, c["attention_bias"])
        lin(p + "attn.Wo", D, D, c["attention_bias"])
        norm(p + "mlp_norm")
        lin(p + "mlp.Wi", 2 * I, D, c["mlp_bias"])
        lin(p + "mlp.Wo", D, I, c["mlp_bias"])
    norm("final_norm")
    return s


def decoder_shapes(c, layer_norms):
    """Qwen3's and Gemma 3's layout: embed_tokens, per layer GQA attention with q/k norms, a gated
    MLP and `layer_norms`, then the final norm."""
    D, I, H, KV, dh = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    s = [("embed_tokens.weight", [c["vocab_size"], D])]
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        s += [(p + "self_attn.q_proj.weight", [H * dh, D]), (p + "self_attn.k_proj.weight", [KV * dh, D]),
              (p + "self_attn.v_proj.weight", [KV * dh, D]), (p + "self_attn.o_proj.weight", [D, H * dh]),
              (p + "self_attn.q_norm.weight", [dh]), (p + "self_attn.k_norm.weight", [dh]),
              (p + "mlp.gate_proj.weight", [I, D]), (p + "mlp.up_proj.weight", [I, D]), (p + "mlp.down_proj.weight", [D, I])]
        s += [(p + n + ".weight", [D]) for n in layer_norms]
    return s + [("norm.weight", [D])]


def qwen3_shapes(c):
    return decoder_shapes(c, ("input_layernorm", "post_attention_layernorm"))


def gemma3_shapes(c):
    s = decoder_shapes(c, ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"))
    for j, (i, o, bias) in enumerate(GEMMA3_DENSE):
        s.append(("dense.%d.linear.weight" % j, [o, i]))
        if bias:
            s.append(("dense.%d.linear.bias" % j, [o]))
    return s


def init_params(shapes, seed, norm_centre=1.0):
    """N(0, 0.02²) everywhere (relative-bias table N(0, 0.5²), so the bias matters); norm weights
    1 + N(0, 0.1²) (Gemma 3, whose norms scale by 1 + w: N(0, 0.1²), norm_centre 0). Rounded to
    float32 first, so float64 starts from the stored values."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in shapes:
        t = torch.randn(shape, generator=g, dtype=torch.float64)
        if "norm.weight" in name.lower():
            t = norm_centre + 0.1 * t
        elif name.startswith("dense."):
            t = 0.2 * t  # Dense modules near Xavier scale, so the pooled vector passes through them at O(1)
        elif "relative_attention_bias" in name:
            t = 0.5 * t
        else:
            t = 0.02 * t
        out[name] = t.to(torch.float32).to(torch.float64)
    return out


def no_decay(name):
    # sentence-transformers' rule: 'bias' anywhere in the name, and every norm's parameters.
    return name.endswith(".bias") or "_bias." in name or "norm." in name.lower()


# ------------------------------------------------------------------------------------------
# MPNet


def relative_buckets(rel, num_buckets, max_distance=128):
    """T5's bidirectional bucketing of key - query distances, float32 log as torch computes it."""
    n = -rel
    half = num_buckets // 2
    ret = (n < 0).to(torch.long) * half
    n = torch.abs(n)
    exact = half // 2
    large = exact + (torch.log(n.float() / exact) / math.log(max_distance / exact) * (half - exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, half - 1))
    return ret + torch.where(n < exact, n, large)


def mpnet_encoder(P, c, ids, mask, wrong=None):
    """wrong: a deliberately wrong variant, for the fixture's self test (WRONG below)."""
    wrong = wrong or {}
    B, L = ids.shape
    D, H = c["hidden_size"], c["num_attention_heads"]
    dh, eps = D // H, c["layer_norm_eps"]
    dtype = P["embeddings.word_embeddings.weight"].dtype

    def linear(x, k):
        return x @ P[k + ".weight"].t() + P[k + ".bias"]

    def ln(x, k):
        return F.layer_norm(x, (D,), P[k + ".weight"], P[k + ".bias"], eps)

    real = ids.ne(c["pad_token_id"]).long()
    pos = torch.arange(L)[None].expand(B, L) if wrong.get("plain_positions") else torch.cumsum(real, 1) * real + c["pad_token_id"]
    x = ln(P["embeddings.word_embeddings.weight"][ids] + P["embeddings.position_embeddings.weight"][pos], "embeddings.LayerNorm")
    r = torch.arange(L)
    rel = r[:, None] - r[None, :] if wrong.get("mirrored_buckets") else r[None, :] - r[:, None]  # key - query
    buckets = relative_buckets(rel, c["relative_attention_num_buckets"])  # [q, k]
    bias = P["encoder.relative_attention_bias.weight"][buckets].permute(2, 0, 1)[None]  # [1, H, L, L]
    add = extended_mask(mask, dtype)
    for i in range(c["num_hidden_layers"]):
        p = "encoder.layer.%d." % i

        def heads(t):
            return t.view(B, L, H, dh).transpose(1, 2)

        q, k, v = (heads(linear(x, p + "attention.attn." + n)) for n in "qkv")
        s = q @ k.transpose(-1, -2) / math.sqrt(dh) + (0 if wrong.get("no_bias") else bias) + add
        ctx = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, L, D)
        x = ln(linear(ctx, p + "attention.attn.o") + x, p + "attention.LayerNorm")
        x = ln(linear(F.gelu(linear(x, p + "intermediate.dense")), p + "output.dense") + x, p + "output.LayerNorm")
    return x


# ------------------------------------------------------------------------------------------
# ModernBERT


def rotary(theta, dh, L, dtype):
    """cos, sin [L, dh]: angles in float32 as the checkpoints' training code computes them."""
    inv = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
    angles = torch.arange(L).float()[:, None] * inv[None, :]
    emb = torch.cat([angles, angles], -1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def modernbert_encoder(P, c, ids, mask, wrong=None):
    wrong = wrong or {}
    B, L = ids.shape
    D, H, I = c["hidden_size"], c["num_attention_heads"], c["intermediate_size"]
    dh, eps = D // H, c["norm_eps"]
    dtype = P["embeddings.tok_embeddings.weight"].dtype

    def linear(x, k):
        y = x @ P[k + ".weight"].t()
        return y + P[k + ".bias"] if k + ".bias" in P else y

    def ln(x, k):
        return F.layer_norm(x, (D,), P[k + ".weight"], P.get(k + ".bias"), eps)

    x = ln(P["embeddings.tok_embeddings.weight"][ids], "embeddings.norm")
    glob = extended_mask(mask, dtype).expand(B, 1, L, L)
    r = torch.arange(L)
    window = (r[None, :] - r[:, None]).abs() <= c["local_attention"] // 2 - (1 if wrong.get("narrow_window") else 0)
    local = glob.masked_fill(~window, torch.finfo(dtype).min)
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        is_global = wrong.get("all_global") or i % c["global_attn_every_n_layers"] == 0
        cos, sin = rotary(c["global_rope_theta"] if is_global or wrong.get("one_base") else c["local_rope_theta"], dh, L, dtype)
        h = x if i == 0 else ln(x, p + "attn_norm")
        qkv = linear(h, p + "attn.Wqkv").view(B, L, 3, H, dh).permute(2, 0, 3, 1, 4)  # [3, B, H, L, dh]
        q, k, v = qkv[0], qkv[1], qkv[2]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        s = q @ k.transpose(-1, -2) * dh ** -0.5 + (glob if is_global else local)
        ctx = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, L, D)
        x = x + linear(ctx, p + "attn.Wo")
        inp, gate = linear(ln(x, p + "mlp_norm"), p + "mlp.Wi").chunk(2, -1)
        if wrong.get("gate_swapped"):
            inp, gate = gate, inp
        x = x + linear(F.gelu(inp) * gate, p + "mlp.Wo")
    return ln(x, "final_norm")


# ------------------------------------------------------------------------------------------
# Qwen3


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def qwen3_encoder(P, c, ids, mask, wrong=None):
    wrong = wrong or {}
    B, L = ids.shape
    H, KV, dh, eps = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["rms_norm_eps"]
    dtype = P["embed_tokens.weight"].dtype

    def lin(x, k):
        return x @ P[k + ".weight"].t()

    x = P["embed_tokens.weight"][ids]
    r = torch.arange(L)
    att = extended_mask(mask, dtype).expand(B, 1, L, L)
    if not wrong.get("bidirectional"):
        att = att.masked_fill(~(r[None, :] <= r[:, None]), torch.finfo(dtype).min)  # keys after the query
    cos, sin = rotary(c["rope_theta"], dh, L, dtype)
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        h = rms_norm(x, P[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(B, L, H, dh)
        k = lin(h, p + "self_attn.k_proj").view(B, L, KV, dh)
        v = lin(h, p + "self_attn.v_proj").view(B, L, KV, dh).transpose(1, 2)
        if not wrong.get("norm_after_rope"):
            q, k = rms_norm(q, P[p + "self_attn.q_norm.weight"], eps), rms_norm(k, P[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)  # [B, heads, L, dh]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if wrong.get("norm_after_rope"):
            q, k = rms_norm(q, P[p + "self_attn.q_norm.weight"], eps), rms_norm(k, P[p + "self_attn.k_norm.weight"], eps)
        if wrong.get("kv_tiled"):  # kv heads cycled (0, 1, 0, 1) instead of each serving consecutive query heads
            k, v = k.repeat(1, H // KV, 1, 1), v.repeat(1, H // KV, 1, 1)
        else:
            k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        s = q @ k.transpose(-1, -2) / math.sqrt(dh) + att
        ctx = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, L, H * dh)
        x = x + lin(ctx, p + "self_attn.o_proj")
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        gate, up = lin(h, p + "mlp.gate_proj"), lin(h, p + "mlp.up_proj")
        if wrong.get("silu_on_up"):
            gate, up = up, gate
        x = x + lin(F.silu(gate) * up, p + "mlp.down_proj")
    return rms_norm(x, P["norm.weight"], eps)


# ------------------------------------------------------------------------------------------
# Gemma 3 (EmbeddingGemma)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gemma3_encoder(P, c, ids, mask, wrong=None):
    """Gemma 3's text stack, bidirectional: RMSNorm scaling by (1 + w), four norms a layer, GQA with
    q/k norms, rotary bases per layer type, a window of sliding_window // 2 each way."""
    wrong = wrong or {}
    B, L = ids.shape
    D, H, KV, dh, eps = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["rms_norm_eps"]
    dtype = P["embed_tokens.weight"].dtype

    def norm(x, k):
        w = P[k + ".weight"]
        return rms_norm(x, w if wrong.get("plain_norm") else 1 + w, eps)

    def lin(x, k):
        return x @ P[k + ".weight"].t()

    x = P["embed_tokens.weight"][ids]
    if not wrong.get("no_scale"):
        x = x * torch.tensor(D ** 0.5, dtype=dtype)
    r = torch.arange(L)
    glob = extended_mask(mask, dtype).expand(B, 1, L, L)
    if not (c["use_bidirectional_attention"] and not wrong.get("causal") or wrong.get("bidirectional")):
        glob = glob.masked_fill(~(r[None, :] <= r[:, None]), torch.finfo(dtype).min)  # keys after the query
    if c["use_bidirectional_attention"]:  # keys within sliding_window // 2 on both sides
        reach = c["sliding_window"] - 1 if wrong.get("full_window") else c["sliding_window"] // 2
        near = (r[None, :] - r[:, None]).abs() <= reach
    else:  # the query and the sliding_window - 1 keys before it
        back = c["sliding_window"] // 2 if wrong.get("halved_window") else c["sliding_window"] - 1
        near = r[:, None] - r[None, :] <= back
    local = glob.masked_fill(~near, torch.finfo(dtype).min)
    scale = dh ** -0.5 if wrong.get("head_dim_scale") else c["query_pre_attn_scalar"] ** -0.5
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        is_global = c["layer_types"][i] == "full_attention"
        cos, sin = rotary(c["rope_theta"] if is_global or wrong.get("one_base") else c["rope_local_base_freq"], dh, L, dtype)
        h = norm(x, p + "input_layernorm")
        q = norm(lin(h, p + "self_attn.q_proj").view(B, L, H, dh), p + "self_attn.q_norm").transpose(1, 2)
        k = norm(lin(h, p + "self_attn.k_proj").view(B, L, KV, dh), p + "self_attn.k_norm").transpose(1, 2)
        v = lin(h, p + "self_attn.v_proj").view(B, L, KV, dh).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        s = q @ k.transpose(-1, -2) * scale + (glob if is_global else local)
        a = lin((torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, L, H * dh), p + "self_attn.o_proj")
        x = x + (a if wrong.get("no_post_norms") else norm(a, p + "post_attention_layernorm"))
        h = norm(x, p + "pre_feedforward_layernorm")
        act = F.gelu(lin(h, p + "mlp.gate_proj")) if wrong.get("exact_gelu") else gelu_tanh(lin(h, p + "mlp.gate_proj"))
        m = lin(act * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        x = x + (m if wrong.get("no_post_norms") else norm(m, p + "post_feedforward_layernorm"))
    return norm(x, "norm")


# ------------------------------------------------------------------------------------------
# Loss, batches, training


def embed(enc, P, c, rows, pooling):
    ids, mask = torch.tensor(rows["input_ids"]), torch.tensor(rows["attention_mask"])
    h = enc(P, c, ids, mask)
    if pooling == "cls":
        pooled = h[:, 0]
    elif pooling == "lasttoken":  # right-padded rows: the last real token sits at sum(mask) - 1
        pooled = h[torch.arange(h.shape[0]), mask.sum(1) - 1]
    else:
        m = mask.to(h.dtype).unsqueeze(-1)
        pooled = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    j = 0  # sentence-transformers Dense modules after the pooling (identity activation)
    while "dense.%d.linear.weight" % j in P:
        pooled = pooled @ P["dense.%d.linear.weight" % j].t()
        if "dense.%d.linear.bias" % j in P:
            pooled = pooled + P["dense.%d.linear.bias" % j]
        j += 1
    return F.normalize(pooled, p=2, dim=1)


def mnrl(enc, P, c, batch, pooling):
    q, pos, neg = (embed(enc, P, c, batch[r], pooling) for r in ("queries", "positives", "negatives"))
    scores = q @ torch.cat([pos, neg]).t() / TEMPERATURE  # candidates: 4 positives, then 4 negatives
    return F.cross_entropy(scores, torch.arange(q.shape[0])), torch.cat([q, pos, neg])


def make_batches(seed, sp, vocab):
    g = torch.Generator().manual_seed(seed)
    lengths = [[16, 5, 9, 12, 11, 16, 7, 14, 6, 13, 16, 4], [8, 16, 3, 10, 16, 12, 9, 5, 15, 7, 11, 16],
               [13, 6, 16, 7, 9, 15, 16, 10, 16, 4, 8, 12]]
    specials = {sp["pad"], sp["cls"], sp["sep"]}
    steps = []
    for s in range(N_STEPS):
        rows = []
        for n in lengths[s]:
            content = [t if t not in specials else t + 3 for t in torch.randint(3, vocab, (n - 2,), generator=g).tolist()]
            if len(content) >= 4:
                content[-1] = content[0]  # a repeated token: embedding gradients must add up
            rows.append([sp["cls"]] + content + [sp["sep"]] + [sp["pad"]] * (SEQ_LEN - n))
        for i in range(N_TRIPLES):  # positives share every other token with their query
            for j in range(1, min(lengths[s][i], lengths[s][4 + i]) - 1, 2):
                rows[4 + i][j] = rows[i][j]
        step = {"step": s + 1}
        for r, role in enumerate(("queries", "positives", "negatives")):
            group = rows[4 * r:4 * r + 4]
            step[role] = {"input_ids": group, "attention_mask": [[int(t != sp["pad"]) for t in row] for row in group]}
        steps.append(step)
    return steps


def train(enc, P0, c, batches, max_norm, dtype, pooling, nd=no_decay):
    P = {k: v.clone().to(dtype).requires_grad_(True) for k, v in P0.items()}
    names = list(P)
    opt = torch.optim.AdamW([{"params": [P[n] for n in names if not nd(n)], "weight_decay": WEIGHT_DECAY},
                             {"params": [P[n] for n in names if nd(n)], "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=ADAM_EPS, foreach=False)
    log, grads, emb1 = [], [], None
    for batch in batches:
        opt.zero_grad(set_to_none=True)
        loss, e = mnrl(enc, P, c, batch, pooling)
        loss.backward()
        grads.append({n: torch.zeros_like(P[n]) if P[n].grad is None else P[n].grad.detach().clone() for n in names})
        emb1 = e.detach().clone() if emb1 is None else emb1
        total = float(torch.nn.utils.clip_grad_norm_([P[n] for n in names], max_norm))
        opt.step()
        log.append({"loss": float(loss), "grad_norm": total, "clipped": total > max_norm})
    return {"log": log, "grads": grads, "emb1": emb1, "params": {n: P[n].detach().clone() for n in names}}


def choose_max_norm(enc, P0, c, batches, pooling):
    """A round max_norm that clips some steps and not others, every norm >= 5% from it (float32 decides alike)."""
    norms = [s["grad_norm"] for s in train(enc, P0, c, batches, float("inf"), torch.float64, pooling)["log"]]
    ns = sorted(norms)  # and the midpoints between neighbouring norms, to 2 significant digits
    mids = [float("%.2g" % math.sqrt(a * b)) for a, b in zip(ns, ns[1:])]
    for mn in sorted([m * 10.0 ** e for e in range(-2, 3) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)] + mids):
        if any(n > mn for n in norms) and not all(n > mn for n in norms) and min(abs(n / mn - 1) for n in norms) >= 0.05:
            return mn
    raise SystemExit("no max_norm clips some steps with a 5%% margin: norms %s" % norms)


def compare(cand, ref, noise):
    """The engine test's checks, as fractions of their tolerances."""
    out = {"loss": max(abs(a["loss"] - b["loss"]) for a, b in zip(cand["log"], ref["log"])) / TOL["loss_abs"],
           "grad_norm": max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"] for a, b in zip(cand["log"], ref["log"])) / TOL["grad_norm_rel"],
           "embeddings": float((cand["emb1"] - ref["emb1"]).abs().max()) / TOL["embeddings_abs"]}
    g = p = pn = 0.0
    for n, r in ref["grads"][0].items():
        g = max(g, float((cand["grads"][0][n] - r).abs().max()) / (TOL["grads_step1_abs"] + TOL["grads_step1_rel_to_tensor_max"] * float(r.abs().max())))
        d = (cand["params"][n].double() - ref["params"][n]).abs().flatten().masked_fill(noise[n].flatten(), 0)
        lim = TOL["params_after3_norm_abs"] if "norm." in n.lower() else TOL["params_after3_abs"]
        p = max(p, float(d.max()) / lim)
        pn = max(pn, float((cand["params"][n].double() - ref["params"][n]).abs().max()) / TOL["params_after3_noise_abs"])
    out.update(grads_step1=g, params_after3=p, params_after3_noise=pn)
    return {k: float("%.3g" % v) for k, v in out.items()}


README = """# {name} — PyTorch reference for the {family} encoder

Generated by `python3 scripts/make-family-fixtures.py` (torch {torch}, CPU; the model is written
in that script from the architecture description, not taken from transformers). Checked by
`src/main/engine/nn/family-parity.test.ts`{extra_test}. Do not edit by hand: rerun the script, which
rewrites identical files.

{what}

Files: `config.json` (the tiny model), `params.safetensors` (initial parameters, checkpoint
keys, float32), `batches.json` (3 steps × 4 queries, 4 positives, 4 hard negatives, length 16,
right-padded), `grads-step1.safetensors` (step-1 gradients before clipping),
`params-after3.safetensors` (after 3 AdamW steps), `expected.json` (per-step loss, pre-clip grad
norm, whether it clipped and the step scalars; step-1 sentence embeddings; parameter order and
no-decay names; Adam-noise elements; tolerances; how much of each tolerance float32 torch uses,
and, as a self test, how far past its tolerances each of a list of plausible mistakes lands:
{mistakes}).

Recipe: MultipleNegativesRankingLoss with hard negatives ({pooling} pooling, L2-normalised,
cosine / 0.05, candidates = 4 positives then 4 negatives); clip_grad_norm_ at
`optimizer.max_grad_norm` (chosen so some steps clip and some do not); torch.optim.AdamW,
lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 except biases and norm parameters
(sentence-transformers' rule; MPNet's relative_attention_bias has 'bias' in its name, so it
is not decayed either). Computed in float64 from the float32 initial values. Tolerances are
tiny-bert-step's (see its README) plus min row cosine 0.99999 for the embeddings.
"""

WHAT = {
    "tiny-mpnet-step": "MPNet: RoBERTa position ids (after pad id 1), no token types, post-LN layers, one relative-position "
                       "bias table [32 buckets, heads] shared by all layers (T5 bucketing, bidirectional, max distance 128). "
                       "`expected.json` also holds torch's bucket for every distance in [-600, 600] and a length-160 forward "
                       "pass (distances past 128, one padded row).",
    "tiny-modernbert-step": "ModernBERT as the released checkpoints are configured: bias-free linears and norms, global "
                            "attention on layers 0 and 3 (rotary base 160000), sliding window of 6 (distance <= 3) on layers "
                            "1 and 2 (rotary base 10000), GeGLU MLP, embedding norm, no attention norm on layer 0, final norm.",
    "tiny-modernbert-bias-step": "ModernBERT with every switch the other way: norm, attention and MLP biases, global every "
                                 "2nd layer (0, 2), sliding window 8, rotary bases 500 / 50.",
    "tiny-qwen3-step": "Qwen3: 2 pre-norm decoder layers, RMSNorm (eps 1e-6), causal attention over the padding mask, "
                       "per-head q/k RMSNorm before rotary positions (base 1000), 4 query heads on 2 kv heads of width 12 "
                       "(not hidden / heads = 8), SwiGLU MLP, no biases, final norm; last-token pooling (right padding).",
    "tiny-gemma3-step": "Gemma 3 as EmbeddingGemma runs it: embeddings times sqrt(32), 4 bidirectional layers (sliding, "
                        "sliding, full, sliding; window 6 = distance <= 3 each way; rotary bases 1000 global / 50 local), "
                        "RMSNorm scaling by (1 + w) before and after attention and the MLP, per-head q/k norms before "
                        "rotary positions, 4 query heads on 2 kv heads of width 12, scores scaled by query_pre_attn_scalar "
                        "8^-1/2, tanh-GELU GeGLU MLP, final norm; mean pooling, then sentence-transformers Dense modules "
                        "32 -> 48 (no bias) and 48 -> 24 (bias) under the keys dense.<i>.linear.*, then Normalize.",
    "tiny-gemma3-causal-step": "Gemma 3 with use_bidirectional_attention false (a text generator read for its hidden "
                               "states): causal attention, sliding layers 0 and 2 see the query and the 4 keys before it "
                               "(sliding_window 5), global layers 1 and 3, one kv head for 4 query heads; otherwise as "
                               "tiny-gemma3-step (Dense modules included).",
}


# Mistakes an implementation could make; each must fail some check by more than its tolerance.
WRONG = {
    "mpnet": {
        "relative buckets mirrored (query - key)": ({"mirrored_buckets": True}, None),
        "no relative-position bias": ({"no_bias": True}, None),
        "position ids from 0, not after padding_idx": ({"plain_positions": True}, None),
        "relative bias table decayed": ({}, lambda n: n.endswith(".bias") or "norm." in n.lower()),
    },
    "modernbert": {
        "sliding window one narrower (distance < local_attention / 2)": ({"narrow_window": True}, None),
        "every layer global": ({"all_global": True}, None),
        "global rotary base on the local layers too": ({"one_base": True}, None),
        "GeGLU halves swapped (GELU on the second)": ({"gate_swapped": True}, None),
        "norm weights decayed": ({}, lambda n: n.endswith(".bias")),
    },
    "qwen3": {
        "bidirectional attention (no causal mask)": ({"bidirectional": True}, None),
        "q/k norms after the rotation": ({"norm_after_rope": True}, None),
        "kv heads tiled (0, 1, 0, 1) instead of repeated per group": ({"kv_tiled": True}, None),
        "SiLU on up_proj instead of gate_proj": ({"silu_on_up": True}, None),
        "norm weights decayed": ({}, lambda n: n.endswith(".bias")),
    },
    "gemma3_text_causal": {
        "bidirectional attention (no causal mask)": ({"bidirectional": True}, None),
        "sliding window halved (sliding_window // 2 keys back, as in the bidirectional model)": ({"halved_window": True}, None),
        "global rotary base on the sliding layers too": ({"one_base": True}, None),
        "norms scale by w, not 1 + w": ({"plain_norm": True}, None),
    },
    "gemma3_text": {
        "norms scale by w, not 1 + w": ({"plain_norm": True}, None),
        "causal attention": ({"causal": True}, None),
        "sliding window of sliding_window - 1 each way (not halved)": ({"full_window": True}, None),
        "global rotary base on the sliding layers too": ({"one_base": True}, None),
        "embeddings not scaled by sqrt(hidden)": ({"no_scale": True}, None),
        "scores scaled by head_dim^-1/2, not query_pre_attn_scalar^-1/2": ({"head_dim_scale": True}, None),
        "no post-attention / post-feedforward norms": ({"no_post_norms": True}, None),
        "exact GELU instead of tanh": ({"exact_gelu": True}, None),
        "norm weights decayed": ({}, lambda n: n.endswith(".bias")),
    },
}


def wrong_key(c):
    """Which list of mistakes a config's fixture is checked against (a causal Gemma 3 has its own)."""
    return "gemma3_text_causal" if c["model_type"] == "gemma3_text" and not c["use_bidirectional_attention"] else c["model_type"]


def make_fixture(out, name, c, enc, shapes, sp, pooling, seed, extra=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    P0 = init_params(shapes(c), seed, 0.0 if c["model_type"] == "gemma3_text" else 1.0)
    batches = make_batches(seed + 1, sp, c["vocab_size"])
    max_norm = choose_max_norm(enc, P0, c, batches, pooling)
    ref = train(enc, P0, c, batches, max_norm, torch.float64, pooling)
    f32 = train(enc, P0, c, batches, max_norm, torch.float32, pooling)
    names = list(P0)
    noise = {n: torch.zeros(P0[n].shape, dtype=torch.bool) for n in names}
    for run in (ref, f32):
        for g in run["grads"]:
            for n in names:
                noise[n] |= (g[n].abs() > 0) & (g[n].abs() < NOISE_GRAD)
    calib = compare(f32, ref, noise)
    assert all(v <= 0.5 for v in calib.values()), ("float32 torch uses more than half a tolerance", calib)
    self_test = {}
    for label, (variant, nd) in WRONG[wrong_key(c)].items():
        run = train(lambda P, c_, ids, m: enc(P, c_, ids, m, variant), P0, c, batches, max_norm, torch.float64, pooling, nd or no_decay)
        r = compare(run, ref, noise)
        fails = [k for k, x in r.items() if x > 1]
        assert fails, ("the fixture cannot tell this mistake apart", name, label, r)
        self_test[label] = {"fails": fails, **r}
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(c, indent=2) + "\n")
    write_safetensors(os.path.join(d, "params.safetensors"), [(n, P0[n]) for n in names], {"format": "pt"})
    write_safetensors(os.path.join(d, "grads-step1.safetensors"), [(n, ref["grads"][0][n]) for n in names], {"format": "pt"})
    write_safetensors(os.path.join(d, "params-after3.safetensors"), [(n, ref["params"][n]) for n in names], {"format": "pt"})
    with open(os.path.join(d, "batches.json"), "w") as f:
        f.write(json.dumps({"seq_len": SEQ_LEN, "special_ids": sp, "steps": batches}) + "\n")
    steps = []
    for t, s in enumerate(ref["log"], 1):
        steps.append(dict(s, step=t, adam_step_size=LR / (1 - BETAS[0] ** t),
                          adam_inv_sqrt_bias_correction2=1 / math.sqrt(1 - BETAS[1] ** t), decay_factor=1 - LR * WEIGHT_DECAY))
    expected = {
        "fixture": name, "generator": "scripts/make-family-fixtures.py", "torch_version": torch.__version__,
        "compute_dtype": "float64 (torch), from float32 initial params; stored float32",
        "pooling": pooling, "temperature": TEMPERATURE,
        "optimizer": {"lr": LR, "betas": list(BETAS), "eps": ADAM_EPS, "weight_decay": WEIGHT_DECAY, "max_grad_norm": max_norm},
        "param_names": names, "no_decay_names": [n for n in names if no_decay(n)],
        "steps": steps, "tolerances": TOL, "float32_torch_vs_reference_fraction_of_tolerance": calib,
        "self_test_wrong_variants_fraction_of_tolerance": self_test,
        "embeddings_step1": [[float("%.9g" % v) for v in row] for row in ref["emb1"].tolist()],
        "adam_noise_elements": {n: noise[n].flatten().nonzero().flatten().tolist() for n in names if noise[n].any()},
    }
    if extra:
        expected.update(extra(P0))
    json_dump(os.path.join(d, "expected.json"), expected)
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(README.format(name=name, family={"mpnet": "MPNet", "modernbert": "ModernBERT", "qwen3": "Qwen3", "gemma3_text": "Gemma 3"}[c["model_type"]], torch=torch.__version__,
                              extra_test=" and `src/main/engine/model/%s.test.ts`" % ("gemma3-folders" if c["model_type"] == "gemma3_text" else "families"), what=WHAT[name], pooling=pooling,
                              mistakes="; ".join(WRONG[wrong_key(c)])))
    print(name, "max_norm", max_norm, [(round(s["loss"], 6), round(s["grad_norm"], 4), s["clipped"]) for s in ref["log"]], "calibration", calib)


def mpnet_extra(P0):
    """The bucket of every distance up to 600 both ways, and a forward pass at length 160 (past
    the max distance 128, where buckets saturate) with one padded row."""
    rel = torch.arange(-600, 601)
    g = torch.Generator().manual_seed(7)
    L = 160
    ids = torch.randint(3, MPNET["vocab_size"], (2, L), generator=g)
    ids[:, 0], ids[0, -1], ids[1, 100] = 0, 2, 2
    ids[1, 101:] = 1
    mask = ids.ne(1).long()
    e = embed(mpnet_encoder, P0, MPNET, {"input_ids": ids.tolist(), "attention_mask": mask.tolist()}, "mean")
    return {"relative_buckets": {"from": -600, "num_buckets": 32, "buckets": relative_buckets(rel, 32).tolist()},
            "long_forward": {"input_ids": ids.tolist(), "embeddings": [[float("%.9g" % v) for v in row] for row in e.tolist()]}}


def gemma3_extra(P0):
    """The Dense modules, as the engine's spec takes them (modules.json's 2_Dense, 3_Dense configs)."""
    return {"dense": [{"in_features": i, "out_features": o, "bias": b} for i, o, b in GEMMA3_DENSE]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "test", "fixtures"))
    ap.add_argument("--only", help="write only this fixture folder (e.g. tiny-qwen3-step)")
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    mb_sp = {"pad": 0, "cls": 1, "sep": 2}
    fixtures = [
        ("tiny-mpnet-step", MPNET, mpnet_encoder, mpnet_shapes, {"pad": 1, "cls": 0, "sep": 2}, "mean", 20261206, mpnet_extra),
        ("tiny-modernbert-step", MODERNBERT, modernbert_encoder, modernbert_shapes, mb_sp, "mean", 20261207, None),
        ("tiny-modernbert-bias-step", MODERNBERT_BIAS, modernbert_encoder, modernbert_shapes, mb_sp, "mean", 20261208, None),
        ("tiny-qwen3-step", QWEN3, qwen3_encoder, qwen3_shapes, mb_sp, "lasttoken", 20261209, None),
        ("tiny-gemma3-step", GEMMA3, gemma3_encoder, gemma3_shapes, {"pad": 0, "cls": 2, "sep": 1}, "mean", 20261210, gemma3_extra),
        ("tiny-gemma3-causal-step", GEMMA3_CAUSAL, gemma3_encoder, gemma3_shapes, {"pad": 0, "cls": 2, "sep": 1}, "mean", 20261211, gemma3_extra),
    ]
    for name, *rest in fixtures:
        if args.only in (None, name):
            make_fixture(out, name, *rest)


if __name__ == "__main__":
    main()
