"""plan/training's memory and time model beside llm-analysis (cli99/llm-analysis), in one run. Not a test.

For each configuration both models get the same architecture, GPUs, parallel layout (data parallel,
tensor parallel, ZeRO stage, recomputation), sequence length, token count and utilisation, and this
prints memory per GPU and training time from each, with the ratio (ours / llm-analysis).

llm-analysis 0.2.2 does not install on Python 3.13 with its declared dependencies: huggingface-hub<0.15
and transformers<5 resolve to a tokenizers release with no 3.13 wheel (its Rust build fails), and
fire<0.6 imports the `pipes` module that 3.13 removed. It runs when installed without dependencies,
beside fire 0.7.1 (transformers is only used to fetch Hugging Face configs, which this script does
not do): `make bench` installs requirements-bench.txt, then `pip install --no-deps -r
requirements-bench-nodeps.txt`.

Also prints, for the published runs in catalog/data/training_runs.csv, the GPU-hours our model gives
at the utilisation each run reports, against the GPU-hours the run reports.
"""

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from costplan.catalog.selfhosted import get_selfhosted_catalog  # noqa: E402
from costplan.catalog.training import get_training_catalog  # noqa: E402
from costplan.core import training as T  # noqa: E402

# Architectures from Meta's llama-models sku_list (the registry's source); llm-analysis gets the same numbers.
MODELS = {
    "llama-3.1-8b": {"num_layers": 32, "n_head": 32, "hidden_dim": 4096, "vocab_size": 128256, "max_seq_len": 131072,
                     "num_key_value_heads": 8, "ffn_embed_dim": 14336, "model_type": "llama"},
    "llama-3.1-70b": {"num_layers": 80, "n_head": 64, "hidden_dim": 8192, "vocab_size": 128256, "max_seq_len": 131072,
                      "num_key_value_heads": 8, "ffn_embed_dim": 28672, "model_type": "llama"},
    "llama-65b": {"num_layers": 80, "n_head": 64, "hidden_dim": 8192, "vocab_size": 32000, "max_seq_len": 2048,
                  "num_key_value_heads": 64, "ffn_embed_dim": 22016, "model_type": "llama"},
}
GPUS = {"h100-sxm": ("h100-sxm-80gb", 989.4), "a100-80gb": ("a100-sxm-80gb", 312.0)}
# name, model, accelerator, GPUs, tensor parallel, ZeRO stage, full recomputation, seq_len, tokens, utilisation
CONFIGS = [
    ("8B full FT, 8xH100, ZeRO-3", "llama-3.1-8b", "h100-sxm", 8, 1, 3, False, 2048, 1e9, 0.4644),
    ("8B full FT, 8xA100, ZeRO-2, recompute", "llama-3.1-8b", "a100-80gb", 8, 1, 2, True, 4096, 1e9, 0.642),
    ("70B full FT, 64xH100, ZeRO-3, recompute", "llama-3.1-70b", "h100-sxm", 64, 1, 3, True, 4096, 1e10, 0.568),
    ("70B full FT, 64xH100, TP8 + ZeRO-1, recompute", "llama-3.1-70b", "h100-sxm", 64, 8, 1, True, 4096, 1e10, 0.568),
    ("LLaMA 65B pretrain, 2048xA100, TP8 + ZeRO-1", "llama-65b", "a100-80gb", 2048, 8, 1, True, 2048, 1.4e12, 0.496),
]


def _params(m: dict) -> float:
    """Parameters of a Llama-style decoder: attention (GQA), gated MLP, untied embeddings, norms."""
    h, L, hd = m["hidden_dim"], m["num_layers"], m["hidden_dim"] // m["n_head"]
    attn = 2 * h * h + 2 * h * m["num_key_value_heads"] * hd
    return float(L * (attn + 3 * h * m["ffn_embed_dim"] + 2 * h) + 2 * m["vocab_size"] * h + h)


def ours(model: str, acc: str, gpus: int, tp: int, zero: int, recompute: bool, seq: int, tokens: float, u: float):
    m = MODELS[model]
    p = _params(m)
    shape = T.ModelShape(params=p, active_params=p, layers=m["num_layers"], hidden=m["hidden_dim"],
                         vocab=m["vocab_size"], adapter_params=0.0)
    one = lambda v, dt=np.int64: np.array([v], dtype=dt)  # noqa: E731
    lay = T.Layouts(data=one(gpus // tp), tensor=one(tp), pipeline=one(1), zero=one(zero), recompute=one(recompute, bool))
    mem = T.memory_per_gpu(shape, T.FULL, seq, lay)
    flops = float(T.model_flops(shape, T.FULL, seq, tokens)) * (T.RECOMPUTE_FACTOR if recompute else 1.0)
    hours = float(T.hours(flops, gpus, GPUS[acc][1] * 1e12, u))
    return float(mem.total[0]) * 1e9, hours, p


def theirs(train, cfg_dir: Path, model: str, acc: str, gpus: int, tp: int, zero: int, recompute: bool, seq: int,
           tokens: float, u: float):
    m = dict(MODELS[model])
    # llm-analysis counts 2 x h x ffn MLP parameters (gated or not) and needs ffn divisible by h: give it the
    # multiple of h nearest the three gated matrices' width (params are printed side by side).
    m["ffn_embed_dim"] = round(1.5 * m["ffn_embed_dim"] / m["hidden_dim"]) * m["hidden_dim"]
    path = cfg_dir / f"{model}.json"
    path.write_text(json.dumps({"name": model, **m}))
    r = train(model_name=str(path), gpu_name=GPUS[acc][0], dtype_name="w16a16e16", seq_len=seq,
              total_num_tokens=int(tokens), batch_size_per_gpu=1, gradient_accumulation_steps=1,
              total_num_gpus=gpus, tp_size=tp, ds_zero=zero, activation_recomputation=2 if recompute else 0,
              flops_efficiency=u, mlp_gated_linear_units=True, flash_attn=True, log_level="ERROR")
    return r["(weight+op_state+grad+act)_memory_per_gpu"], r["total_training_latency"] / 3600, r["num_params_total"]


def main() -> None:
    try:
        import llm_analysis
        from llm_analysis.analysis import train
        version = getattr(llm_analysis, "__version__", "0.2.2")
    except ImportError:
        sys.exit("llm-analysis is not installed: pip install --no-deps -r requirements-bench-nodeps.txt "
                 "(after requirements-bench.txt); see this file's docstring for why --no-deps")
    print(f"python {platform.python_version()}, llm-analysis {version}; GB = 1e9 bytes; same utilisation for both\n")
    print(f"{'configuration':48} {'params ours/theirs':>19} {'mem/GPU ours':>12} {'theirs':>8} {'ratio':>6} "
          f"{'hours ours':>11} {'theirs':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as d:
        for name, *cfg in CONFIGS:
            t0 = time.perf_counter()
            mo, ho, po = ours(*cfg)
            t_ours = time.perf_counter() - t0
            mt, ht, pt = theirs(train, Path(d), *cfg)
            print(f"{name:48} {po / 1e9:8.2f}/{pt / 1e9:<9.2f} {mo / 1e9:11.1f} {mt / 1e9:8.1f} {mo / mt:6.2f} "
                  f"{ho:11.4g} {ht:9.4g} {ho / ht:6.2f}   (ours {t_ours * 1e3:.2f} ms)")
    print("\nPublished runs, GPU-hours at the utilisation each run reports (catalog/data/training_runs.csv):")
    cat, accs = get_training_catalog(), get_selfhosted_catalog().accelerators
    for run in cat.runs:
        shape = T.ModelShape(params=run.params, active_params=run.active_params, layers=run.layers, hidden=run.hidden,
                             vocab=run.vocab, adapter_params=0.0)
        flops = float(T.model_flops(shape, T.FULL, run.seq_len, run.tokens))
        peak = accs[run.accelerator_id].bf16_tflops * 1e12
        u = flops / run.tokens * run.reported_value / peak if run.reported_basis == "tokens_per_gpu_s" else run.reported_value
        hw = flops * (T.RECOMPUTE_FACTOR if run.reported_basis == "hfu" and run.recompute else 1.0)
        gpu_hours = float(T.hours(hw, run.gpus, peak, u)) * run.gpus
        print(f"  {run.name:14} {run.reported_basis}={run.reported_value:<6g} ours {gpu_hours:12,.0f}  reported "
              f"{run.reported_gpu_hours:12,.0f}  ratio {gpu_hours / run.reported_gpu_hours:.3f}")


if __name__ == "__main__":
    main()
