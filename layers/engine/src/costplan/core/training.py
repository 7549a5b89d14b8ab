"""Training and fine-tuning: memory per GPU, the parallel layout that fits, FLOPs, and time at a utilisation.

Pure and vectorised over layouts (one array element per data x tensor x pipeline x ZeRO x recompute
combination). No validation, no I/O: the service checks its inputs and wraps the result.
Units: parameters as counts, bytes in GB (1e9), compute in FLOP and FLOP/s, time in hours.

Memory per GPU (mixed-precision Adam; Rajbhandari et al. 2020, "ZeRO", section 3.1 and figure 1)::

    full / pretrain: weights 2P + gradients 2P + optimizer 12P (fp32 master, momentum, variance) = 16P bytes
    ZeRO-1 shards the optimizer over the data-parallel degree d, ZeRO-2 also the gradients,
    ZeRO-3 (FSDP full shard) also the weights; tensor (t) and pipeline (p) parallel divide all three by t x p.
    LoRA:  frozen bf16 base 2P, plus the adapter A at 16 bytes each (weights, gradients, Adam)
    QLoRA: frozen 4-bit NF4 base with double quantisation, 4.127 bits per parameter
           (Dettmers et al. 2023, "QLoRA", section 3), plus the adapter at 16 bytes each

Activations per GPU for one sequence of s tokens, hidden h, L layers (Korthikanti et al. 2022,
"Reducing Activation Recomputation", table 2, with sequence parallelism and flash attention, so the
5as/h attention-score term is absent)::

    stored:      34 x s x h x L / t bytes
    recomputed:   2 x s x h x L / t bytes   (only each layer's input is kept; one extra forward pass)
    logits:       4 x s x V / t bytes       (fp32, when the vocabulary is known)

Under a 1F1B pipeline schedule the first stage holds p micro-batches of L/p layers, so pipeline
parallelism does not reduce the activation term.

Compute (Kaplan et al. 2020; Narayanan et al. 2021)::

    dense:   6 x N x D model FLOPs (2ND forward, 4ND backward); MoE uses the active parameters
    LoRA:    4 x N x D + 6 x A x D  (the frozen base needs no weight gradients: one third of 6ND saved)
    attention: 12 x L x h x s FLOPs per token (forward and backward), added when the shape is known
    full recomputation adds one forward pass: hardware FLOPs = model FLOPs x 4/3

Time = hardware FLOPs / (GPUs x peak FLOP/s x hardware utilisation).
"""

from dataclasses import dataclass

import numpy as np

ADAM_MIXED_BYTES = 16.0  # per trained parameter: bf16 weight 2 + bf16 gradient 2 + fp32 master/m/v 12
WEIGHT_BYTES = 2.0  # bf16 weights
GRAD_BYTES = 2.0
OPTIMIZER_BYTES = 12.0
NF4_DQ_BITS = 4.127  # QLoRA: 4-bit NormalFloat + 0.127 bits of double-quantised constants per parameter
ACT_STORED = 34.0  # bytes per token per hidden unit per layer, sequence parallel, no attention scores
ACT_RECOMPUTED = 2.0
LOGIT_BYTES = 4.0
RECOMPUTE_FACTOR = 4.0 / 3.0  # (forward + backward + extra forward) / (forward + backward) = 8ND / 6ND
LORA_BACKWARD_SAVING = 1.0 / 3.0  # weight gradients of the frozen base: 2ND of 6ND

FULL, LORA, QLORA = 0, 1, 2  # parameter-update kinds


@dataclass(frozen=True)
class ModelShape:
    params: float  # total parameters
    active_params: float  # per token (MoE); equals params for dense models
    layers: int
    hidden: int
    vocab: int | None
    adapter_params: float  # LoRA/QLoRA trainable parameters; 0 for full training


@dataclass(frozen=True)
class Layouts:
    """One element per candidate layout."""

    data: np.ndarray  # data-parallel degree d
    tensor: np.ndarray  # tensor-parallel degree t (within one node)
    pipeline: np.ndarray  # pipeline-parallel degree p
    zero: np.ndarray  # ZeRO stage 0..3
    recompute: np.ndarray  # bool: full activation recomputation


@dataclass(frozen=True)
class Memory:
    """GB per GPU, per layout."""

    weights: np.ndarray
    gradients: np.ndarray
    optimizer: np.ndarray
    adapter: np.ndarray  # LoRA/QLoRA adapter weights + gradients + optimizer
    activations: np.ndarray  # as the layout runs (stored or recomputed)
    activations_stored: np.ndarray  # without recomputation, for comparison
    total: np.ndarray


def base_weight_bytes(kind: int) -> float:
    return NF4_DQ_BITS / 8.0 if kind == QLORA else WEIGHT_BYTES


def memory_per_gpu(shape: ModelShape, kind: int, seq_len: int, lay: Layouts) -> Memory:
    """Bytes each GPU holds for one micro-batch of one sequence, per layout (see the module formulas)."""
    P, A = shape.params, shape.adapter_params
    model_split = lay.tensor * lay.pipeline
    d = lay.data.astype(float)
    if kind == FULL:
        w = WEIGHT_BYTES * P / model_split
        g = GRAD_BYTES * P / model_split
        o = OPTIMIZER_BYTES * P / model_split
        o = np.where(lay.zero >= 1, o / d, o)
        g = np.where(lay.zero >= 2, g / d, g)
        w = np.where(lay.zero >= 3, w / d, w)
        adapter = np.zeros_like(w)
    else:
        w = base_weight_bytes(kind) * P / model_split
        w = np.where(lay.zero >= 3, w / d, w)  # FSDP also shards a frozen base
        g = np.zeros_like(w)
        o = np.zeros_like(w)
        adapter = ADAM_MIXED_BYTES * A / model_split
        adapter = np.where(lay.zero >= 1, adapter / d, adapter)
    per_layer_token = shape.hidden * shape.layers * seq_len / lay.tensor
    logits = LOGIT_BYTES * seq_len * shape.vocab / lay.tensor if shape.vocab else np.zeros_like(w)
    stored = ACT_STORED * per_layer_token + logits
    act = np.where(lay.recompute, ACT_RECOMPUTED * per_layer_token + logits, stored)
    gb = lambda x: np.asarray(x, float) / 1e9  # noqa: E731
    total = w + g + o + adapter + act
    return Memory(gb(w), gb(g), gb(o), gb(adapter), gb(act), gb(stored), gb(total))


def layouts(gpus: int, gpus_per_node: int, layers: int) -> Layouts:
    """Every (data, tensor, pipeline, ZeRO stage, recompute) layout of ``gpus`` GPUs.

    Tensor parallelism stays within a node (powers of two up to the node's GPUs); pipeline stages
    are powers of two that divide the layer count evenly or leave at least one layer per stage.
    """
    rows = []
    t = 1
    while t <= min(gpus_per_node, gpus):
        p = 1
        while t * p <= gpus and p <= layers:
            if gpus % (t * p) == 0:
                d = gpus // (t * p)
                for z in range(4):
                    if z and d == 1:
                        continue  # sharding over one replica is no sharding
                    for r in (False, True):
                        rows.append((d, t, p, z, r))
            p *= 2
        t *= 2
    a = np.array(rows, dtype=object)
    return Layouts(data=a[:, 0].astype(np.int64), tensor=a[:, 1].astype(np.int64), pipeline=a[:, 2].astype(np.int64),
                   zero=a[:, 3].astype(np.int64), recompute=a[:, 4].astype(bool))


def layout_preference(lay: Layouts) -> np.ndarray:
    """Lower is preferred among layouts that fit: no recomputation first (it costs a forward pass),
    then the least model splitting (tensor x pipeline adds communication and pipeline bubbles),
    then the lowest ZeRO stage (each stage adds communication)."""
    return lay.recompute.astype(np.int64) * 1_000_000 + (lay.tensor * lay.pipeline) * 10 + lay.zero


def dense_flops(active_params: float | np.ndarray, tokens: float | np.ndarray):
    """6 x N x D: the model FLOPs of training N (active) parameters on D tokens."""
    return 6.0 * np.asarray(active_params, float) * np.asarray(tokens, float)


def attention_flops(layers: int, hidden: int, seq_len: int, tokens: float | np.ndarray):
    """Attention score and value FLOPs, forward and backward: 12 x L x h x s per token."""
    return 12.0 * layers * hidden * seq_len * np.asarray(tokens, float)


def model_flops(shape: ModelShape, kind: int, seq_len: int, tokens: float | np.ndarray):
    """Model FLOPs of one pass over ``tokens`` (no recomputation)."""
    base = dense_flops(shape.active_params, tokens)
    if kind != FULL:
        base = base * (1.0 - LORA_BACKWARD_SAVING) + dense_flops(shape.adapter_params, tokens)
    return base + attention_flops(shape.layers, shape.hidden, seq_len, tokens)


def hours(flops, gpus, peak_flops_per_gpu: float, utilisation):
    """Wall-clock hours for ``flops`` at ``utilisation`` of ``gpus`` x peak."""
    return np.asarray(flops, float) / (np.asarray(gpus, float) * peak_flops_per_gpu * np.asarray(utilisation, float)) / 3600.0


def lora_adapter_params(rank: int, dims: list[tuple[int, int]], layers: int) -> float:
    """LoRA trainable parameters: rank x (d_in + d_out) per adapted matrix, per layer (Hu et al. 2021)."""
    return float(rank * sum(i + o for i, o in dims) * layers)
