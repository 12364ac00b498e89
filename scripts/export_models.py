#!/usr/bin/python3
"""Exports seeded plain-PyTorch BERT, GPT-2, MiniLM and ResNet-18 models to ONNX with test data.

Each export writes OUT/<dir>/model.onnx and OUT/<dir>/test_data_set_0/{input,output}_K.pb in the
layout of ONNX's conformance data, so `fluidtune test OUT/<dir>` can check itself against PyTorch.
The models are written here rather than taken from a model hub so that nothing is downloaded and
every weight is reproducible from the seed. They mimic the Hugging Face / torchvision code that
real exports come from (size()-driven views, buffer slices, mask arithmetic), because the ONNX
graphs those produce are what fluidtune has to import: constant folding is off by default so the
exporter's Shape/Gather/Unsqueeze/Concat chains, Constant nodes and mask ops stay in the graph.

Without onnxruntime, each export is checked three ways: onnx.checker with strict shape inference,
a second PyTorch forward pass on the saved inputs, and an independent float32 numpy evaluation of
the exported graph (see OnnxNumpyEvaluator) compared with PyTorch's outputs.

Run with /usr/bin/python3 (needs torch and onnx). See --help, and tests/models/README.md for the
commands that produced the committed tiny models.
"""

import argparse
import collections
import math
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

MODELS = ("bert", "gpt2", "minilm", "resnet18")
# models/ at the repository root is git-ignored: the full-size exports (90-500 MB) go there.
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")
DEFAULT_OPSET = 17

# Architecture defaults per model; --tiny replaces them with TINY, explicit flags override both.
FULL = {
    "bert": dict(layers=12, hidden=768, heads=12, ffn=3072, vocab=30522, seq=128, max_pos=512),
    "minilm": dict(layers=6, hidden=384, heads=12, ffn=1536, vocab=30522, seq=128, max_pos=512),
    "gpt2": dict(layers=12, hidden=768, heads=12, ffn=3072, vocab=50257, seq=128, max_pos=1024),
    "resnet18": dict(image_size=224, width=64, classes=1000),
}
TINY = {
    "bert": dict(layers=2, hidden=64, heads=4, ffn=128, vocab=1000, seq=16, max_pos=64),
    "minilm": dict(layers=2, hidden=64, heads=4, ffn=128, vocab=1000, seq=16, max_pos=64),
    "gpt2": dict(layers=2, hidden=64, heads=4, ffn=128, vocab=1000, seq=16, max_pos=64),
    "resnet18": dict(image_size=32, width=8, classes=10),
}
# BERT adds (1 - mask) * min as in Hugging Face; the MiniLM export uses masked_fill on an expanded
# boolean mask instead, so that the two encoders cover both ways exporters spell padding masks.
MASK_STYLE = {"bert": "additive", "minilm": "fill"}


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

def init_weights(module):
    """Hugging Face's normal(0, 0.02) init for transformers and torchvision's kaiming init for
    convolutions, but with random biases and LayerNorm/BatchNorm affine parameters and running
    statistics, so that a kernel which drops one of them fails the test."""
    cnn = isinstance(module, ResNet18)
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.Linear, nn.Embedding)) and not cnn:
            nn.init.normal_(m.weight, 0.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.normal_(m.bias, 0.0, 0.02)
        elif isinstance(m, nn.LayerNorm):
            nn.init.normal_(m.weight, 1.0, 0.1)
            nn.init.normal_(m.bias, 0.0, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.1)
            nn.init.normal_(m.bias, 0.0, 0.1)
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
        elif isinstance(m, Conv1D):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.normal_(m.bias, 0.0, 0.02)


class EncoderEmbeddings(nn.Module):
    """BERT embeddings: word + position + token type, then LayerNorm. Position and token-type
    ids come from sliced buffers, as in Hugging Face, since the graph has no such inputs."""

    def __init__(self, c):
        super().__init__()
        self.word = nn.Embedding(c["vocab"], c["hidden"])
        self.position = nn.Embedding(c["max_pos"], c["hidden"])
        self.token_type = nn.Embedding(2, c["hidden"])
        self.norm = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.register_buffer("position_ids", torch.arange(c["max_pos"]).expand((1, -1)))
        self.register_buffer("token_type_ids", torch.zeros((1, c["max_pos"]), dtype=torch.long))

    def forward(self, input_ids):
        batch, seq = input_ids.size()
        position_ids = self.position_ids[:, :seq]
        token_type_ids = self.token_type_ids[:, :seq].expand(batch, seq)
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(position_ids)
        return self.norm(x)


class EncoderSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["heads"]
        self.head_dim = c["hidden"] // c["heads"]
        self.query = nn.Linear(c["hidden"], c["hidden"])
        self.key = nn.Linear(c["hidden"], c["hidden"])
        self.value = nn.Linear(c["hidden"], c["hidden"])

    def split_heads(self, x):
        x = x.view(x.size()[:-1] + (self.heads, self.head_dim))
        return x.permute(0, 2, 1, 3)

    def forward(self, x, mask, mask_style):
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if mask_style == "additive":
            scores = scores + mask
        else:
            scores = scores.masked_fill(mask.expand_as(scores), torch.finfo(scores.dtype).min)
        probs = F.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.heads * self.head_dim,))


class EncoderLayer(nn.Module):
    """Post-LN transformer layer with exact (erf) GELU, as in BERT."""

    def __init__(self, c):
        super().__init__()
        self.attention = EncoderSelfAttention(c)
        self.attention_out = nn.Linear(c["hidden"], c["hidden"])
        self.attention_norm = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.intermediate = nn.Linear(c["hidden"], c["ffn"])
        self.output = nn.Linear(c["ffn"], c["hidden"])
        self.output_norm = nn.LayerNorm(c["hidden"], eps=1e-12)

    def forward(self, x, mask, mask_style):
        x = self.attention_norm(x + self.attention_out(self.attention(x, mask, mask_style)))
        return self.output_norm(x + self.output(F.gelu(self.intermediate(x))))


class Encoder(nn.Module):
    """BERT / MiniLM: inputs input_ids and attention_mask (int64 [batch, seq], 1 = keep)."""

    def __init__(self, c):
        super().__init__()
        self.mask_style = c["mask_style"]
        self.embeddings = EncoderEmbeddings(c)
        self.layers = nn.ModuleList(EncoderLayer(c) for _ in range(c["layers"]))
        self.pooler = nn.Linear(c["hidden"], c["hidden"]) if c["pooled"] else None

    def forward(self, input_ids, attention_mask):
        x = self.embeddings(input_ids)
        if self.mask_style == "additive":
            mask = attention_mask[:, None, None, :].to(x.dtype)
            mask = (1.0 - mask) * torch.finfo(x.dtype).min
        else:
            mask = (attention_mask == 0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask, self.mask_style)
        if self.pooler is None:
            return x
        return x, torch.tanh(self.pooler(x[:, 0]))


class Conv1D(nn.Module):
    """GPT-2's transposed linear layer: addmm on the flattened input, then a view back."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.empty(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_tanh(x):
    """GPT-2's GELU approximation, spelled as in its source so the export keeps Pow and Tanh."""
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
    return 0.5 * x * (1.0 + torch.tanh(inner))


class DecoderAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["heads"]
        self.head_dim = c["hidden"] // c["heads"]
        self.hidden = c["hidden"]
        n = c["max_pos"]
        causal = torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n)
        self.register_buffer("bias", causal)
        self.c_attn = Conv1D(3 * c["hidden"], c["hidden"])
        self.c_proj = Conv1D(c["hidden"], c["hidden"])

    def split_heads(self, x):
        x = x.view(x.size()[:-1] + (self.heads, self.head_dim))
        return x.permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.c_attn(x).split(self.hidden, dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        w = torch.matmul(q, k.transpose(-1, -2))
        w = w / torch.full([], v.size(-1) ** 0.5, dtype=w.dtype)
        q_len, k_len = q.size(-2), k.size(-2)
        causal = self.bias[:, :, k_len - q_len:k_len, :k_len]
        mask_value = torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype)
        w = torch.where(causal, w, mask_value)
        w = F.softmax(w, dim=-1)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous()
        a = a.view(a.size()[:-2] + (self.hidden,))
        return self.c_proj(a)


class DecoderLayer(nn.Module):
    """Pre-LN GPT-2 block."""

    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.attn = DecoderAttention(c)
        self.ln_2 = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.c_fc = Conv1D(c["ffn"], c["hidden"])
        self.c_proj = Conv1D(c["hidden"], c["ffn"])

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(gelu_tanh(self.c_fc(self.ln_2(x))))


class Decoder(nn.Module):
    """GPT-2 LM: input input_ids (int64 [batch, seq]), output logits [batch, seq, vocab]."""

    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab"], c["hidden"])
        self.wpe = nn.Embedding(c["max_pos"], c["hidden"])
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c["layers"]))
        self.ln_f = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.lm_head = nn.Linear(c["hidden"], c["vocab"], bias=False)
        self.tied = c["tied"]

    def tie(self):
        if self.tied:
            self.lm_head.weight = self.wte.weight

    def forward(self, input_ids):
        seq = input_ids.size(-1)
        position_ids = torch.arange(0, seq, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(position_ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.ln_f(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18 layout with a configurable base width; input 'input' NCHW."""

    def __init__(self, c):
        super().__init__()
        w = c["width"]
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = [w, 2 * w, 4 * w, 8 * w]
        stages, cin = [], w
        for i, cout in enumerate(widths):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * w, c["classes"])

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.avgpool(self.stages(x))
        return self.fc(torch.flatten(x, 1))


# ----------------------------------------------------------------------------------------------
# Configuration, inputs, export
# ----------------------------------------------------------------------------------------------

def usage_error(msg):
    print(f"export_models.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def resolve_config(name, args):
    """Model config from the defaults, --tiny and explicit flags, in that order of precedence."""
    c = dict((TINY if args.tiny else FULL)[name])
    c["batch"] = args.batch
    overrides = {"layers": args.layers, "hidden": args.hidden, "heads": args.heads, "ffn": args.ffn,
                 "vocab": args.vocab, "seq": args.seq, "max_pos": args.max_pos,
                 "image_size": args.image_size, "width": args.width, "classes": args.classes}
    for key, value in overrides.items():
        if value is not None and key in c:
            c[key] = value
    if name in MASK_STYLE:
        c["mask_style"] = args.mask or MASK_STYLE[name]
        c["pooled"] = not args.no_pooled
    if name == "gpt2":
        c["tied"] = not args.untied
    if "heads" in c and c["hidden"] % c["heads"]:
        usage_error(f"{name}: --hidden {c['hidden']} is not a multiple of --heads {c['heads']}")
    if "seq" in c and c["seq"] > c["max_pos"]:
        usage_error(f"{name}: --seq {c['seq']} exceeds --max-pos {c['max_pos']}")
    for key, value in c.items():
        if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
            usage_error(f"{name}: {key} must be positive, got {value}")
    return c


def model_seed(name, seed):
    """Per-model seed, so that bert and minilm at equal sizes still get different weights."""
    return seed * 1000 + MODELS.index(name)


def build_model(name, c, seed):
    torch.manual_seed(model_seed(name, seed))
    if name in ("bert", "minilm"):
        model = Encoder(c)
    elif name == "gpt2":
        model = Decoder(c)
    else:
        model = ResNet18(c)
    init_weights(model)
    if name == "gpt2":
        model.tie()
    return model.eval()


def make_inputs(name, c, seed):
    """Seeded inputs in their valid range, as (graph input names, numpy arrays)."""
    rng = np.random.RandomState(model_seed(name, seed) + 500)
    if name == "resnet18":
        size = c["image_size"]
        x = rng.standard_normal((c["batch"], 3, size, size)).astype(np.float32)
        return ["input"], [x]
    batch, seq = c["batch"], c["seq"]
    ids = rng.randint(0, c["vocab"], size=(batch, seq)).astype(np.int64)
    if name == "gpt2":
        return ["input_ids"], [ids]
    # Row b keeps a different number of leading tokens; every row keeps at least one and, when
    # seq > 1, pads at least one, so masking is exercised on every row.
    mask = np.ones((batch, seq), dtype=np.int64)
    for b in range(batch):
        pad = 1 + (2 + 3 * b) % max(seq // 2, 1) if seq > 1 else 0
        mask[b, seq - min(pad, seq - 1):] = 0
    return ["input_ids", "attention_mask"], [ids, mask]


def output_names(name, c):
    if name == "gpt2" or name == "resnet18":
        return ["logits"]
    return ["last_hidden_state", "pooler_output"] if c["pooled"] else ["last_hidden_state"]


def dynamic_axes(name, in_names, out_names):
    if name == "resnet18":
        axes = {n: {0: "batch"} for n in in_names + out_names}
    else:
        axes = {n: {0: "batch", 1: "seq"} for n in in_names}
        axes.update({n: {0: "batch", 1: "seq"} for n in out_names if n != "pooler_output"})
        axes.update({n: {0: "batch"} for n in out_names if n == "pooler_output"})
    return axes


def run_torch(model, arrays):
    with torch.no_grad():
        out = model(*[torch.from_numpy(a) for a in arrays])
    out = out if isinstance(out, tuple) else (out,)
    return [o.numpy().copy() for o in out]


def dir_name(name, args):
    if args.name:
        return args.name
    parts = [name]
    if args.tiny:
        parts.append("tiny")
    if args.dynamic:
        parts.append("dynamic")
    if args.fold:
        parts.append("folded")
    if args.opset != DEFAULT_OPSET:
        parts.append(f"opset{args.opset}")
    return "_".join(parts)


def op_histogram(model):
    counts = collections.Counter(n.op_type for n in model.graph.node)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def human(nbytes):
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024.0


def compare(label, got, want, rtol, atol):
    """Prints the worst error of got vs want; returns whether |got-want| <= atol + rtol*|want|."""
    if got.shape != want.shape or got.dtype != want.dtype:
        print(f"    {label}: MISMATCH {got.shape} {got.dtype} vs {want.shape} {want.dtype}")
        return False
    if rtol == 0.0 and atol == 0.0:
        ok = bool(np.array_equal(got, want))
        print(f"    {label}: {'bit-identical' if ok else 'DIFFERENT'}")
        return ok
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = atol + rtol * np.abs(want.astype(np.float64))
    ok = bool(np.all(diff <= bound))
    worst = float(np.max(diff / bound)) if diff.size else 0.0
    print(f"    {label}: max abs err {float(diff.max()) if diff.size else 0.0:.3g}, "
          f"worst err/tolerance {worst:.3g} -> {'ok' if ok else 'FAIL'}")
    return ok


def export_one(name, args):
    c = resolve_config(name, args)
    out_dir = os.path.join(args.out, dir_name(name, args))
    data_dir = os.path.join(out_dir, "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    # A previous export with more inputs or outputs would leave pb files the runner would pick up.
    for f in os.listdir(data_dir):
        if f.endswith(".pb") and f.startswith(("input_", "output_")):
            os.remove(os.path.join(data_dir, f))
    model_path = os.path.join(out_dir, "model.onnx")

    model = build_model(name, c, args.seed)
    in_names, arrays = make_inputs(name, c, args.seed)
    out_names = output_names(name, c)
    n_params = sum(p.numel() for p in model.parameters())
    shown = {k: v for k, v in c.items() if k != "batch"}
    print(f"{name}: {n_params:,} parameters, batch {c['batch']}, {shown}")

    t0 = time.time()
    torch.onnx.export(
        model, tuple(torch.from_numpy(a) for a in arrays), model_path,
        input_names=in_names, output_names=out_names, opset_version=args.opset,
        do_constant_folding=args.fold,
        # EVAL would also fuse BatchNormalization into Conv, a fold that fluidtune should do.
        training=torch.onnx.TrainingMode.EVAL if args.fold else torch.onnx.TrainingMode.PRESERVE,
        dynamic_axes=dynamic_axes(name, in_names, out_names) if args.dynamic else None)
    export_s = time.time() - t0

    expected = run_torch(model, arrays)
    written = [model_path]
    for k, (n, a) in enumerate(zip(in_names, arrays)):
        path = os.path.join(data_dir, f"input_{k}.pb")
        with open(path, "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
        written.append(path)
    for k, (n, a) in enumerate(zip(out_names, expected)):
        path = os.path.join(data_dir, f"output_{k}.pb")
        with open(path, "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
        written.append(path)

    print(f"  exported in {export_s:.1f} s (opset {args.opset}, constant folding "
          f"{'on' if args.fold else 'off'}, {'dynamic' if args.dynamic else 'static'} shapes)")
    for path in written:
        print(f"  wrote {path} ({human(os.path.getsize(path))})")
    onnx_model = onnx.load(model_path)
    hist = op_histogram(onnx_model)
    graph = onnx_model.graph
    print(f"  {len(graph.node)} nodes, {len(graph.initializer)} initializers; ops: "
          + ", ".join(f"{op} {n}" for op, n in hist))
    if args.dynamic:
        shapes = " ".join(f"--shape {n}={','.join(str(d) for d in a.shape)}"
                          for n, a in zip(in_names, arrays))
        print(f"  dynamic axes: run fluidtune with {shapes}")
    if not args.no_verify and not verify(name, c, model, onnx_model, model_path, in_names,
                                         out_names, args):
        return False
    return True


# ----------------------------------------------------------------------------------------------
# Independent check: a small float32 numpy evaluator of the ONNX graph
# ----------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _np_dtype(onnx_type):
    return np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[onnx_type])


def _slice_axis(dim, start, end, step):
    """ONNX Slice's clamping for one axis, as a Python slice."""
    if step == 0:
        raise ValueError("Slice step 0")
    start = start + dim if start < 0 else start
    end = end + dim if end < 0 else end
    if step > 0:
        start, end = min(max(start, 0), dim), min(max(end, 0), dim)
    else:
        start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    return slice(start, None if end < 0 else end, step)


def _windows(x, kernel, strides, pads, fill):
    """NCHW input padded with fill and cut into [N, C, OH, OW, KH, KW] strided windows."""
    kh, kw = kernel
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=fill)
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return win[:, :, ::strides[0], ::strides[1]]


class OnnxNumpyEvaluator:
    """Runs an ONNX graph with numpy, in float32 like a C reference kernel would.

    It covers exactly the ops this script's exports contain, following the ONNX operator
    specification rather than PyTorch, so agreement with PyTorch's outputs checks the export
    itself. An op it does not know raises, so a new export pattern cannot pass unchecked.
    """

    def __init__(self, model):
        self.model = model
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)

    def run(self, feeds):
        env = {t.name: numpy_helper.to_array(t) for t in self.model.graph.initializer}
        env.update(feeds)
        for node in self.model.graph.node:
            ins = [env[n] if n else None for n in node.input]
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            fn = getattr(self, "op_" + node.op_type, None)
            if fn is None:
                raise NotImplementedError(f"numpy evaluator: op {node.op_type} (node {node.name})")
            self.n_out = len(node.output)
            outs = fn(ins, attrs)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            for name, value in zip(node.output, outs):
                if name:
                    env[name] = np.asarray(value)
        return {o.name: env[o.name] for o in self.model.graph.output}

    # Elementwise: numpy's broadcasting is ONNX's multidirectional broadcasting.
    def op_Add(self, i, a): return i[0] + i[1]
    def op_Sub(self, i, a): return i[0] - i[1]
    def op_Mul(self, i, a): return i[0] * i[1]
    def op_Equal(self, i, a): return i[0] == i[1]
    def op_Where(self, i, a): return np.where(i[0], i[1], i[2])
    def op_Sqrt(self, i, a): return np.sqrt(i[0])
    def op_Tanh(self, i, a): return np.tanh(i[0])
    def op_Relu(self, i, a): return np.maximum(i[0], np.zeros((), i[0].dtype))
    def op_Erf(self, i, a): return _erf(i[0]).astype(i[0].dtype)
    def op_Identity(self, i, a): return i[0].copy()

    def op_Div(self, i, a):
        if np.issubdtype(i[0].dtype, np.integer):
            return np.trunc(i[0] / i[1]).astype(i[0].dtype)
        return i[0] / i[1]

    def op_Pow(self, i, a):
        return np.power(i[0], i[1].astype(i[0].dtype))

    def op_Cast(self, i, a):
        if a["to"] == onnx.TensorProto.BFLOAT16:
            raise NotImplementedError("Cast to bfloat16")
        return i[0].astype(_np_dtype(a["to"]))

    def op_Constant(self, i, a):
        if "value" in a:
            return numpy_helper.to_array(a["value"])
        for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
            if key in a:
                return np.array(a[key], dtype)
        for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
            if key in a:
                return np.array(list(a[key]), dtype)
        raise NotImplementedError(f"Constant with attributes {list(a)}")

    def op_ConstantOfShape(self, i, a):
        value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
        return np.full(tuple(i[0].tolist()), value.reshape(-1)[0], value.dtype)

    def op_Range(self, i, a):
        return np.arange(i[0], i[1], i[2]).astype(i[0].dtype)

    # Shape and data movement.
    def op_Shape(self, i, a):
        dims = list(i[0].shape)
        start, end = a.get("start", 0), a.get("end", len(dims))
        return np.array(dims[slice(start, end)], np.int64)

    def op_Reshape(self, i, a):
        shape = [int(d) for d in i[1]]
        if not a.get("allowzero", 0):
            shape = [i[0].shape[k] if d == 0 else d for k, d in enumerate(shape)]
        return i[0].reshape(shape)

    def op_Flatten(self, i, a):
        axis = a.get("axis", 1)
        axis = axis + i[0].ndim if axis < 0 else axis
        return i[0].reshape(int(np.prod(i[0].shape[:axis])), -1)

    def op_Transpose(self, i, a):
        return np.transpose(i[0], a.get("perm", list(range(i[0].ndim))[::-1])).copy()

    def op_Unsqueeze(self, i, a):
        axes = i[1].tolist() if len(i) > 1 else list(a["axes"])
        rank = i[0].ndim + len(axes)
        out = i[0]
        for ax in sorted(x % rank for x in axes):
            out = np.expand_dims(out, ax)
        return out

    def op_Squeeze(self, i, a):
        axes = i[1].tolist() if len(i) > 1 and i[1] is not None else a.get("axes")
        if axes is None:
            return np.squeeze(i[0])
        return np.squeeze(i[0], axis=tuple(x % i[0].ndim for x in axes))

    def op_Concat(self, i, a): return np.concatenate(i, axis=a["axis"])

    def op_Gather(self, i, a):
        axis = a.get("axis", 0)
        idx = i[1].astype(np.int64)
        idx = np.where(idx < 0, idx + i[0].shape[axis], idx)
        return np.take(i[0], idx, axis=axis)

    def op_Expand(self, i, a):
        shape = np.broadcast_shapes(i[0].shape, tuple(i[1].tolist()))
        return np.broadcast_to(i[0], shape).copy()

    def op_Slice(self, i, a):
        x = i[0]
        starts, ends = i[1].tolist(), i[2].tolist()
        axes = i[3].tolist() if len(i) > 3 and i[3] is not None else list(range(len(starts)))
        steps = i[4].tolist() if len(i) > 4 and i[4] is not None else [1] * len(starts)
        index = [slice(None)] * x.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            ax %= x.ndim
            index[ax] = _slice_axis(x.shape[ax], s, e, st)
        return x[tuple(index)].copy()

    def op_Split(self, i, a):
        axis = a.get("axis", 0) % i[0].ndim
        if len(i) > 1 and i[1] is not None:
            sizes = i[1].tolist()
        elif "split" in a:
            sizes = list(a["split"])
        else:
            n = a.get("num_outputs", self.n_out)
            sizes = [i[0].shape[axis] // n] * n
        return np.split(i[0], np.cumsum(sizes)[:-1], axis=axis)

    # Linear algebra, reductions, normalisation.
    def op_MatMul(self, i, a): return np.matmul(i[0], i[1])

    def op_Gemm(self, i, a):
        A = i[0].T if a.get("transA", 0) else i[0]
        B = i[1].T if a.get("transB", 0) else i[1]
        y = np.float32(a.get("alpha", 1.0)) * (A @ B)
        if len(i) > 2 and i[2] is not None:
            y = y + np.float32(a.get("beta", 1.0)) * i[2]
        return y

    def op_ReduceMean(self, i, a):
        axes = a.get("axes")
        if axes is None and len(i) > 1 and i[1] is not None:
            axes = i[1].tolist()
        axes = None if axes is None else tuple(x % i[0].ndim for x in axes)
        return np.mean(i[0], axis=axes, keepdims=bool(a.get("keepdims", 1)))

    def op_Softmax(self, i, a):
        axis = a.get("axis", -1 if self.opset >= 13 else 1)
        if self.opset < 13:
            raise NotImplementedError("Softmax before opset 13 flattens; not produced here")
        x = i[0] - np.max(i[0], axis=axis, keepdims=True)
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)

    def op_LayerNormalization(self, i, a):
        axis = a.get("axis", -1) % i[0].ndim
        axes = tuple(range(axis, i[0].ndim))
        x = i[0]
        mean = np.mean(x, axis=axes, keepdims=True)
        var = np.mean(np.square(x - mean), axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + np.float32(a.get("epsilon", 1e-5)))
        y = (x - mean) * inv_std * i[1]
        if len(i) > 2 and i[2] is not None:
            y = y + i[2]
        return [y, mean, inv_std]

    def op_BatchNormalization(self, i, a):
        if a.get("training_mode", 0):
            raise NotImplementedError("BatchNormalization in training mode")
        x, scale, bias, mean, var = i[:5]
        shape = (1, -1) + (1,) * (x.ndim - 2)
        inv = scale / np.sqrt(var + np.float32(a.get("epsilon", 1e-5)))
        return (x - mean.reshape(shape)) * inv.reshape(shape) + bias.reshape(shape)

    # Convolution and pooling (2-D, NCHW).
    @staticmethod
    def _check_2d(op, x, a):
        if x.ndim != 4 or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise NotImplementedError(f"{op}: only 2-D with explicit pads")
        if list(a.get("dilations", [1, 1])) != [1, 1]:
            raise NotImplementedError(f"{op}: dilations")

    def op_Conv(self, i, a):
        x, w = i[0], i[1]
        self._check_2d("Conv", x, a)
        if a.get("group", 1) != 1:
            raise NotImplementedError("Conv: groups")
        kh, kw = w.shape[2], w.shape[3]
        win = _windows(x, (kh, kw), a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), 0.0)
        # [N, C, OH, OW, KH, KW] x [M, C, KH, KW] -> [N, M, OH, OW]
        n, c, oh, ow = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n, oh * ow, c * kh * kw)
        y = (cols @ w.reshape(w.shape[0], -1).T).reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
        if len(i) > 2 and i[2] is not None:
            y = y + i[2].reshape(1, -1, 1, 1)
        return np.ascontiguousarray(y)

    def op_MaxPool(self, i, a):
        self._check_2d("MaxPool", i[0], a)
        if a.get("ceil_mode", 0) or self.n_out > 1 or i[0].dtype != np.float32:
            raise NotImplementedError("MaxPool: ceil_mode, indices or non-float32")
        win = _windows(i[0], a["kernel_shape"], a.get("strides", [1, 1]),
                       a.get("pads", [0, 0, 0, 0]), -np.inf)
        return win.max(axis=(4, 5)).astype(i[0].dtype)

    def op_GlobalAveragePool(self, i, a):
        return np.mean(i[0], axis=tuple(range(2, i[0].ndim)), keepdims=True)


# ----------------------------------------------------------------------------------------------
# Verification
# ----------------------------------------------------------------------------------------------

def verify(name, c, model, onnx_model, model_path, in_names, out_names, args):
    print("  verify:")
    try:
        onnx.checker.check_model(model_path, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        print(f"    onnx.checker: FAIL: {e}")
        return False
    print("    onnx.checker (full check, strict shape inference): ok")
    data_dir = os.path.join(os.path.dirname(model_path), "test_data_set_0")

    def load(kind, k):
        # A copy: torch.from_numpy warns on the read-only arrays numpy_helper returns.
        path = os.path.join(data_dir, f"{kind}_{k}.pb")
        return np.array(numpy_helper.to_array(onnx.load_tensor(path)))
    loaded_in = [load("input", k) for k in range(len(in_names))]
    loaded_out = [load("output", k) for k in range(len(out_names))]
    ok = True
    again = run_torch(model, loaded_in)
    for n, got, want in zip(out_names, again, loaded_out):
        ok &= compare(f"{n}: second PyTorch pass on the saved inputs vs output pb",
                      got, want, 0.0, 0.0)
    t0 = time.time()
    got = OnnxNumpyEvaluator(onnx_model).run(dict(zip(in_names, loaded_in)))
    eval_s = time.time() - t0
    graph_outs = [o.name for o in onnx_model.graph.output]
    if graph_outs != out_names:
        print(f"    graph outputs {graph_outs} differ from {out_names}: FAIL")
        return False
    for n, want in zip(out_names, loaded_out):
        ok &= compare(f"{n}: numpy evaluation of model.onnx ({eval_s:.1f} s) vs PyTorch",
                      got[n], want, args.rtol, args.atol)
    if args.dynamic:
        # The dynamic graph must also be right at a shape other than the one it was traced at.
        c = dict(c, batch=c["batch"] + 1)
        if "seq" in c:
            c["seq"] = max(c["seq"] // 2, 1)
        _, other = make_inputs(name, c, args.seed + 1)
        want = run_torch(model, other)
        got = OnnxNumpyEvaluator(onnx_model).run(dict(zip(in_names, other)))
        shape = "x".join(str(d) for d in other[0].shape)
        for n, w in zip(out_names, want):
            ok &= compare(f"{n}: at input shape {shape}, numpy evaluation vs PyTorch",
                          got[n], w, args.rtol, args.atol)
    return ok


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export seeded plain-PyTorch models to ONNX with test data:\n"
                    "  OUT/<model>[_tiny][_dynamic][_folded][_opsetN]/model.onnx\n"
                    "  OUT/<model>.../test_data_set_0/{input,output}_K.pb\n"
                    "Defaults: bert 12 layers, hidden 768, 12 heads, ffn 3072, vocab 30522,\n"
                    "512 positions; minilm 6 layers, hidden 384, 12 heads, ffn 1536, vocab 30522;\n"
                    "gpt2 12 layers, hidden 768, 12 heads, ffn 3072, vocab 50257, 1024 positions;\n"
                    "resnet18 224x224, width 64, 1000 classes; sequence 128, batch 1.",
        epilog="examples:\n"
               "  export_models.py --model bert                  full size into models/bert\n"
               "  export_models.py --model all --tiny --out tests/models\n"
               "  export_models.py --model gpt2 --tiny --opset 14 --dynamic --out /tmp/m",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="all", choices=MODELS + ("all",),
                   help="model to export (default all)")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help="output folder (default models/ at the repository root, git-ignored)")
    p.add_argument("--name", help="folder name under --out instead of the derived one "
                                  "(only with a single --model)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, choices=(14, 17),
                   help=f"ONNX opset (default {DEFAULT_OPSET}); 14 has no LayerNormalization")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seq", type=int, help="sequence length (default 128, tiny 16)")
    p.add_argument("--layers", type=int, help="transformer layers")
    p.add_argument("--hidden", type=int, help="hidden size")
    p.add_argument("--heads", type=int, help="attention heads")
    p.add_argument("--ffn", type=int, help="feed-forward size")
    p.add_argument("--vocab", type=int, help="vocabulary size")
    p.add_argument("--max-pos", type=int, help="position embedding rows and causal mask size "
                                               "(tiny 64); must be at least --seq")
    p.add_argument("--image-size", type=int, help="resnet18 input height and width (tiny 32)")
    p.add_argument("--width", type=int, help="resnet18 base channel width (tiny 8)")
    p.add_argument("--classes", type=int, help="resnet18 classes (tiny 10)")
    p.add_argument("--mask", choices=("additive", "fill"),
                   help="encoder padding mask: (1-mask)*min added to the scores, or masked_fill "
                        "on an expanded boolean mask (default additive for bert, fill for minilm)")
    p.add_argument("--no-pooled", action="store_true",
                   help="encoders output last_hidden_state only, without pooler_output")
    p.add_argument("--untied", action="store_true", help="gpt2's LM head gets its own weight")
    p.add_argument("--tiny", action="store_true",
                   help="2 layers, hidden 64, 4 heads, ffn 128, vocab 1000, seq 16; resnet18 at "
                        "32x32, width 8, 10 classes")
    p.add_argument("--dynamic", action="store_true",
                   help="mark batch and seq as dynamic axes (fluidtune then needs --shape)")
    p.add_argument("--fold", action="store_true",
                   help="let torch fold constants and fuse BatchNormalization into Conv")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and inputs (default 0)")
    p.add_argument("--no-verify", action="store_true", help="skip the checks after export")
    p.add_argument("--rtol", type=float, default=1e-4,
                   help="numpy-vs-PyTorch relative tolerance (default 1e-4)")
    p.add_argument("--atol", type=float, default=1e-5,
                   help="numpy-vs-PyTorch absolute tolerance (default 1e-5)")
    args = p.parse_args(argv)
    if args.name and args.model == "all":
        p.error("--name needs a single --model")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(1)
    names = MODELS if args.model == "all" else (args.model,)
    for n in names:
        resolve_config(n, args)  # refuse bad sizes before writing anything
    failed = [n for n in names if not export_one(n, args)]
    if failed:
        print(f"verification FAILED for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
