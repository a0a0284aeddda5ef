# PyTorch reference for bench/run.sh train-step --torch: the same MiniLM-shape step (6 post-LN
# BERT layers, hidden 384, 12 heads, FFN 1536, vocab 30522, mean pooling, L2 normalisation,
# InfoNCE over in-batch negatives at scale 20, clip_grad_norm_ 1.0, AdamW), written out with
# torch.nn so no transformers install is needed. Prints one JSON line: {"medianStepMs", ...}.
#   python3 bench/torch-step.py [--batch 32] [--length 64] [--dropout 0.1] [--steps 3] [--threads N]
import argparse, json, os, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

a = argparse.ArgumentParser()
a.add_argument('--batch', type=int, default=32)
a.add_argument('--length', type=int, default=64)
a.add_argument('--dropout', type=float, default=0.1)
a.add_argument('--steps', type=int, default=3)
a.add_argument('--threads', type=int, default=os.cpu_count())
args = a.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)
D, H, F_, V, LAYERS, p = 384, 12, 1536, 30522, 6, args.dropout


class Layer(nn.Module):  # transformers' BertLayer: attention, residual + LN, FFN, residual + LN
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(D, eps=1e-12), nn.LayerNorm(D, eps=1e-12)
        self.i, self.out = nn.Linear(D, F_), nn.Linear(F_, D)

    def forward(self, x, mask_add):
        b, l, _ = x.shape
        split = lambda t: t.view(b, l, H, D // H).transpose(1, 2)
        s = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / (D // H) ** 0.5 + mask_add
        ctx = (F.dropout(s.softmax(-1), p, self.training) @ split(self.v(x))).transpose(1, 2).reshape(b, l, D)
        x = self.ln1(F.dropout(self.o(ctx), p, self.training) + x)
        return self.ln2(F.dropout(self.out(F.gelu(self.i(x))), p, self.training) + x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.types = nn.Embedding(V, D), nn.Embedding(512, D), nn.Embedding(2, D)
        self.ln = nn.LayerNorm(D, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, ids, mask):
        x = self.word(ids) + self.pos.weight[: ids.shape[1]] + self.types.weight[0]
        x = F.dropout(self.ln(x), p, self.training)
        mask_add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask_add)
        m = mask.unsqueeze(-1).float()
        return F.normalize((x * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)


model = Encoder().train()
decay = [q for n, q in model.named_parameters() if not (n.endswith('bias') or 'ln' in n)]
rest = [q for n, q in model.named_parameters() if n.endswith('bias') or 'ln' in n]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': rest, 'weight_decay': 0.0}], lr=1e-4)
rows = 2 * args.batch
ids = torch.randint(1000, 30000, (rows, args.length))
ids[:, 0] = 101
mask = torch.ones(rows, args.length, dtype=torch.long)


def step():
    e = model(ids, mask)
    q, d = e[: args.batch], e[args.batch:]
    loss = F.cross_entropy(q @ d.T * 20.0, torch.arange(args.batch))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


step()  # warm-up, as the Embedsmith bench's first step
times = []
for _ in range(args.steps):
    t = time.perf_counter()
    step()
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({'medianStepMs': statistics.median(times), 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                  'batch': args.batch, 'length': args.length, 'dropout': p}))
