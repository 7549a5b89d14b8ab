"""Training math: worked examples from the papers, published runs reproduced, and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan.catalog.selfhosted import get_selfhosted_catalog
from costplan.catalog.training import get_training_catalog, scale_of
from costplan.core import training as T

# ZeRO paper (Rajbhandari et al. 2020, figure 1): a 7.5B model, mixed-precision Adam (K = 12), N_d = 64 GPUs.
ZERO_PSI, ZERO_ND = 7.5e9, 64


def _one(d=1, t=1, p=1, z=0, r=False) -> T.Layouts:
    a = lambda v, dt=np.int64: np.array([v], dtype=dt)  # noqa: E731
    return T.Layouts(data=a(d), tensor=a(t), pipeline=a(p), zero=a(z), recompute=a(r, bool))


def _states_gb(shape, kind, lay):
    m = T.memory_per_gpu(shape, kind, 1, lay)
    return float((m.weights + m.gradients + m.optimizer + m.adapter)[0])


def _shape(params, adapter=0.0, layers=32, hidden=4096, vocab=None):
    return T.ModelShape(params=params, active_params=params, layers=layers, hidden=hidden, vocab=vocab,
                        adapter_params=adapter)


@pytest.mark.parametrize("stage, expected_gb", [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_paper_figure_1_model_states_per_gpu(stage, expected_gb):
    shape = _shape(ZERO_PSI)
    got = _states_gb(shape, T.FULL, _one(d=ZERO_ND, z=stage))
    assert got == pytest.approx(expected_gb, abs=0.05)


def test_full_finetune_of_a_7b_model_by_hand():
    """Mistral 7B (7.25B): 16 bytes per parameter before sharding = 116 GB of model states, so it cannot
    fit one 80 GB GPU unsharded; activations for one 2048-token sequence, 32 layers, h=4096:
    34 x 2048 x 4096 x 32 = 9.13 GB stored, 2 x ... = 0.537 GB with full recomputation."""
    shape = _shape(7.25e9)
    m = T.memory_per_gpu(shape, T.FULL, 2048, _one())
    assert float(m.weights[0]) == pytest.approx(14.5)
    assert float(m.gradients[0]) == pytest.approx(14.5)
    assert float(m.optimizer[0]) == pytest.approx(87.0)
    assert float(m.activations_stored[0]) == pytest.approx(34 * 2048 * 4096 * 32 / 1e9)
    assert float(T.memory_per_gpu(shape, T.FULL, 2048, _one(r=True)).activations[0]) == pytest.approx(
        2 * 2048 * 4096 * 32 / 1e9)
    assert float(m.total[0]) > 80
    # on 8 GPUs with ZeRO-3 the states are 116 / 8 = 14.5 GB per GPU
    assert _states_gb(shape, T.FULL, _one(d=8, z=3)) == pytest.approx(14.5)


def test_qlora_of_a_65b_model_fits_one_48gb_gpu_as_the_qlora_paper_reports():
    """QLoRA (Dettmers et al. 2023): LLaMA 65B, 4-bit NF4 with double quantisation, LoRA r=64 on every linear
    layer, fits a single 48 GB GPU; 16-bit full fine-tuning needs more than 780 GB."""
    layers, hidden, ffn, rank = 80, 8192, 22016, 64
    dims = [(hidden, hidden)] * 4 + [(hidden, ffn), (hidden, ffn), (ffn, hidden)]
    adapter = T.lora_adapter_params(rank, dims, layers)
    shape = _shape(65.2e9, adapter, layers=layers, hidden=hidden)
    qlora = T.memory_per_gpu(shape, T.QLORA, 512, _one(r=True))
    assert float(qlora.weights[0]) == pytest.approx(65.2e9 * 4.127 / 8 / 1e9)  # 33.6 GB
    assert float(qlora.total[0]) < 48
    full = T.memory_per_gpu(_shape(65.2e9, layers=layers, hidden=hidden), T.FULL, 512, _one(r=True))
    assert float(full.total[0]) > 780


def test_6nd_for_llama_3_405b_matches_the_paper():
    """Llama 3 paper: 405B parameters on 15.6T tokens is 3.8e25 FLOPs."""
    assert float(T.dense_flops(405e9, 15.6e12)) == pytest.approx(3.8e25, rel=0.01)


def _reproduce(run, cat):
    acc = get_selfhosted_catalog().accelerators[run.accelerator_id]
    shape = T.ModelShape(params=run.params, active_params=run.active_params, layers=run.layers, hidden=run.hidden,
                         vocab=run.vocab, adapter_params=0.0)
    flops = float(T.model_flops(shape, T.FULL, run.seq_len, run.tokens))
    peak = acc.bf16_tflops * 1e12
    hfu = flops / run.tokens * run.reported_value / peak if run.reported_basis == "tokens_per_gpu_s" else run.reported_value
    hw = flops * (T.RECOMPUTE_FACTOR if run.reported_basis == "hfu" and run.recompute else 1.0)
    return float(T.hours(hw, run.gpus, peak, hfu)) * run.gpus


def test_three_published_runs_are_reproduced_within_25_percent():
    cat = get_training_catalog()
    assert len(cat.runs) >= 3
    for run in cat.runs:
        ratio = _reproduce(run, cat) / run.reported_gpu_hours
        assert 0.75 <= ratio <= 1.25, (run.run_id, ratio)
        assert run.source and run.url


def test_mfu_table_rows_carry_sources_and_sane_values():
    cat = get_training_catalog()
    assert len(cat.mfu) >= 10
    for p in cat.mfu:
        assert 0.1 < p.hfu < 0.85 and p.source and p.url and p.as_of


def test_utilisation_lookup_flags_borrowed_figures():
    cat = get_training_catalog()
    own = cat.utilisation("h100-sxm", "bf16", "node")
    assert own.borrowed is None and len(own.points) >= 2 and own.low <= own.hfu <= own.high
    other = cat.utilisation("l40s", "bf16", "node")
    assert other.borrowed and "l40s" in other.borrowed


# ----------------------------------------------------------------------------------------------- properties

shapes = st.builds(
    lambda p, layers, hidden, rank: (p * 1e9, layers, hidden, rank),
    st.floats(0.5, 500), st.integers(4, 128), st.sampled_from([2048, 4096, 8192, 16384]), st.integers(1, 256))


@settings(max_examples=60, deadline=None)
@given(shapes, st.sampled_from([512, 2048, 8192]))
def test_qlora_memory_below_lora_below_full(shape_args, seq):
    params, layers, hidden, rank = shape_args
    adapter = T.lora_adapter_params(rank, [(hidden, hidden)] * 4, layers)
    shape = _shape(params, min(adapter, params * 0.1), layers=layers, hidden=hidden)
    lay = T.layouts(8, 8, layers)
    best = lambda kind: float(T.memory_per_gpu(shape, kind, seq, lay).total.min())  # noqa: E731
    assert best(T.QLORA) < best(T.LORA) < best(T.FULL)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e6, 1e13), st.floats(1.0, 10.0), st.floats(0.1, 500))
def test_compute_is_monotone_in_tokens_and_epochs(tokens, factor, params_b):
    shape = _shape(params_b * 1e9)
    for kind in (T.FULL, T.LORA):
        base = float(T.model_flops(shape, kind, 2048, tokens))
        assert float(T.model_flops(shape, kind, 2048, tokens * factor)) >= base


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["h100-sxm", "a100-80gb", "l40s", "h200"]), st.integers(0, 10), st.integers(1, 8))
def test_more_gpus_never_raise_wall_clock_time(acc, doublings, per_node):
    """Time at the catalog's utilisation for the scale: doubling the GPUs must not slow the job."""
    cat = get_training_catalog()
    peak = get_selfhosted_catalog().accelerators[acc].bf16_tflops * 1e12
    gpus = per_node * 2 ** doublings
    nodes = max(1, gpus // per_node)

    def h(g, n):
        return float(T.hours(1e21, g, peak, cat.utilisation(acc, "bf16", scale_of(g, n)).hfu))

    assert h(gpus * 2, nodes * 2) <= h(gpus, nodes) + 1e-12


def _scalar_memory_gb(P, A, L, h, V, kind, s, d, t, p, z, r):
    """A second, scalar implementation of the module's formulas: the oracle for the vectorised kernel."""
    split = t * p
    if kind == T.FULL:
        w, g, o, a = 2 * P / split, 2 * P / split, 12 * P / split, 0.0
        if z >= 1:
            o /= d
        if z >= 2:
            g /= d
        if z >= 3:
            w /= d
    else:
        w = (4.127 / 8 if kind == T.QLORA else 2) * P / split / (d if z >= 3 else 1)
        g = o = 0.0
        a = 16 * A / split / (d if z >= 1 else 1)
    act = (2 if r else 34) * s * h * L / t + (4 * s * V / t if V else 0)
    return (w + g + o + a + act) / 1e9


@settings(max_examples=100, deadline=None)
@given(st.floats(1e8, 1e12), st.integers(1, 96), st.sampled_from([1024, 4096, 8192]), st.sampled_from([None, 32000]),
       st.sampled_from([T.FULL, T.LORA, T.QLORA]), st.sampled_from([1, 2, 8, 16, 64]), st.sampled_from([1, 8]),
       st.sampled_from([512, 4096]))
def test_vectorised_memory_matches_the_scalar_oracle_for_every_layout(P, L, h, V, kind, gpus, per_node, s):
    shape = T.ModelShape(params=P, active_params=P, layers=L, hidden=h, vocab=V, adapter_params=P * 0.01)
    lay = T.layouts(gpus, per_node, L)
    got = T.memory_per_gpu(shape, kind, s, lay).total
    for i in range(len(got)):
        want = _scalar_memory_gb(P, P * 0.01, L, h, V, kind, s, int(lay.data[i]), int(lay.tensor[i]),
                                 int(lay.pipeline[i]), int(lay.zero[i]), bool(lay.recompute[i]))
        assert float(got[i]) == pytest.approx(want, rel=1e-9)
    assert np.all(lay.data * lay.tensor * lay.pipeline == gpus) and np.all(lay.tensor <= per_node)
