"""assist/workload: worked examples by hand for every use case (the arithmetic is in each test's docstring)."""

import pytest

from costplan.services.assist import estimate_workload
from costplan.services.errors import RequestRejected
from costplan_contracts.assist import AssistWorkloadRequest
from costplan_contracts.enums import WarningCode

DAYS = 730 / 24  # the 730-hour month plan/llm prices


def run(body: dict):
    return estimate_workload(AssistWorkloadRequest.model_validate(body))


def test_chat_defaults_for_20k_daily_users_by_hand():
    """sessions = 20,000 x 2 x 30.4167 = 1,216,666.7; defaults s=500, u=70, a=215, 2 turns, all history kept.
    turn 1: 500 + 70 = 570; turn 2: 500 + (70 + 215) + 70 = 855; session 1,425 in, 430 out. No prefix reaches
    1,024 tokens, so nothing is cached."""
    r = run({"use_case": "chat", "scale": {"daily_active_users": 20_000}})
    w = r.workload
    sessions = 20_000 * 2 * DAYS
    assert w.input_tokens_per_month == round(sessions * 1425) == 1_733_750_000
    assert w.output_tokens_per_month == round(sessions * 430)
    assert w.requests_per_month == round(sessions * 2)
    assert (w.max_context_tokens, w.avg_input_tokens_per_request, w.avg_output_tokens_per_request) == (855, 712.5, 215)
    assert w.cached_input_share == 0 and w.peak_to_average_ratio == 2.0
    assert (r.slo.ttft_ms, r.slo.tpot_ms, r.workload_profile.value) == (250, 100, "chat")
    assert r.range.low.input_tokens_per_month < w.input_tokens_per_month < r.range.high.input_tokens_per_month


def test_rag_with_words_chunks_and_retained_history_by_hand():
    """s = 400 words x 4/3 = 533.33; chunks 5 x 512 = 2,560; u = 60, a = 250; 2 turns of history kept (310 each).
    turns: 3,153.33, 3,463.33, 3,773.33 -> 10,390 per session; 608,333.3 sessions (1 per user a day). Cached: the
    chunks sit between history and prompt, so only s + history(t-1) repeats: 533, 533, 843 tokens, all < 1,024."""
    r = run({"use_case": "rag", "scale": {"daily_active_users": 20_000, "sessions_per_user_per_day": 1,
                                          "turns_per_session": 3},
             "content": {"system_prompt": {"value": 400, "unit": "words"}, "prompt": {"value": 60},
                         "answer": {"value": 250}},
             "rag": {"chunks": 5, "chunk_size": {"value": 512}}, "history": {"retained_turns": 2}})
    w = r.workload
    sessions = 20_000 * DAYS
    assert w.input_tokens_per_month == round(sessions * 10_390)
    assert w.output_tokens_per_month == round(sessions * 750)
    assert w.max_context_tokens == 3774 and w.cached_input_share == 0
    assert r.workload_profile.value == "rag_long_context" and w.peak_to_average_ratio == 3.0
    assert any("400 words x 1.333 tokens/word" in line for line in r.derivation)


def test_code_assistant_caches_the_system_prompt_and_the_history_by_hand():
    """10 calls/s x 2,628,000 s = 26,280,000 calls. s=1,500, u=100, d=2,000, a=400, all history (500/turn).
    turns: 3,600, 4,100, 4,600 -> 12,300 per 3 calls (4,100 each). Cached: 1,500 (system), 1,500 (s + history(1)=0;
    the code context sits between), 2,000 (s + 500) -> 5,000 / 12,300 = 0.406504."""
    r = run({"use_case": "code_assistant", "scale": {"requests_per_second": 10}})
    w = r.workload
    assert w.requests_per_month == 26_280_000
    assert w.input_tokens_per_month == 26_280_000 * 4100
    assert w.output_tokens_per_month == 26_280_000 * 400
    assert w.cached_input_share == pytest.approx(5000 / 12300, abs=1e-6) and w.max_context_tokens == 4600
    assert (r.slo.ttft_ms, r.slo.tpot_ms) == (125, 200)
    assert WarningCode.PROMPT_CACHE_MODELLED in [x.code for x in r.warnings]


def test_summarization_of_pages_spans_the_words_per_page_range_by_hand():
    """20 pages x 500 words x 4/3 = 13,333.33 tokens (low end 250 words/page: 6,666.67); s=200, u=20 (defaults, low
    100 and 10), a=300 stated. 10,000 calls/day x 30.4167 days = 304,166.7 calls."""
    r = run({"use_case": "summarization", "scale": {"requests_per_day": 10_000},
             "content": {"context": {"value": 20, "unit": "pages"}, "answer": {"value": 300}}})
    calls = 10_000 * DAYS
    assert r.workload.input_tokens_per_month == round(calls * (200 + 20 + 20 * 500 * 4 / 3))
    assert r.workload.output_tokens_per_month == round(calls * 300)
    assert r.range.low.input_tokens_per_month == round(calls * (100 + 10 + 20 * 250 * 4 / 3))
    assert r.range.low.output_tokens_per_month == r.range.high.output_tokens_per_month  # the answer was stated
    assert r.slo.ttft_ms == 15_000


def test_extraction_from_characters_by_hand():
    """2 calls/s -> 5,256,000 calls; 3,000 characters / 4 = 750 tokens; s=800, u=20 -> 1,570 in, 150 out."""
    r = run({"use_case": "extraction", "scale": {"requests_per_second": 2},
             "content": {"context": {"value": 3000, "unit": "characters"}}})
    assert r.workload.input_tokens_per_month == 5_256_000 * 1570
    assert r.workload.output_tokens_per_month == 5_256_000 * 150
    assert r.workload_profile.value == "extraction"


def test_agent_trajectory_grows_each_step_and_is_read_from_cache_by_hand():
    """1,000 DAU x 2 sessions x 30.4167 = 60,833.3 sessions of 1 turn x 3 steps; s=2,000, u=100, a=200, tool=500.
    steps: 2,100, 2,800, 3,500 -> 8,400 in; cached 2,000 (system), 2,100, 2,800 -> 6,900 / 8,400 = 0.821429."""
    r = run({"use_case": "agent", "scale": {"daily_active_users": 1000, "turns_per_session": 1},
             "agent": {"steps_per_turn": 3, "tool_result": {"value": 500}}})
    sessions = 1000 * 2 * DAYS
    assert r.workload.input_tokens_per_month == round(sessions * 8400)
    assert r.workload.output_tokens_per_month == round(sessions * 600)
    assert r.workload.requests_per_month == round(sessions * 3)
    assert r.workload.cached_input_share == round(6900 / 8400, 6) and r.workload.max_context_tokens == 3500


def test_batch_has_no_latency_target_and_no_peak():
    """1,000,000 records/day x 30.4167 days; s=300 + record 500 = 800 in, 100 out."""
    r = run({"use_case": "batch", "scale": {"requests_per_day": 1_000_000}})
    calls = 1_000_000 * DAYS
    assert r.workload.input_tokens_per_month == round(calls * 800)
    assert r.workload.output_tokens_per_month == round(calls * 100)
    assert r.slo.ttft_ms is None and r.slo.tpot_ms is None and r.workload.peak_to_average_ratio == 1.0


def test_a_sliding_history_stops_the_cache_at_the_system_prompt():
    """s=2,000, u=70, a=215, 3 turns, 1 turn kept. Inputs 2,070, 2,355, 2,355. Cached: 2,000 (system), 2,070
    (system + the first prompt, still the prefix), then 2,000 (turn 1 dropped: only the system prompt repeats)."""
    r = run({"use_case": "chat", "scale": {"requests_per_second": 1, "turns_per_session": 3},
             "content": {"system_prompt": {"value": 2000}}, "history": {"retained_turns": 1}})
    assert r.workload.cached_input_share == round(6070 / 6780, 6)


def test_every_default_cites_a_source_and_names_its_override():
    r = run({"use_case": "rag", "scale": {"daily_active_users": 100}, "rag": {"chunks": 8}})
    by_name = {a.name: a for a in r.assumptions}
    assert by_name["rag_chunks"].stated and by_name["rag_chunks"].low == by_name["rag_chunks"].high == 8
    chunk = by_name["chunk_tokens"]
    assert not chunk.stated and chunk.override == "rag.chunk_size" and "Bedrock" in chunk.source and chunk.url
    assert all(a.source and a.override for a in r.assumptions)
    assert WarningCode.WORKLOAD_DEFAULTS_USED in [w.code for w in r.warnings]


def test_stated_overrides_win_and_growth_compounds():
    r = run({"use_case": "chat", "scale": {"daily_active_users": 1000}, "cached_input_share": 0.3,
             "peak_to_average_ratio": 4, "workload_profile": "reasoning", "slo": {"ttft_ms": 800},
             "growth": {"monthly_rate": 0.1, "horizon_months": 3}})
    assert r.workload.cached_input_share == 0.3 and r.workload.peak_to_average_ratio == 4
    assert r.workload_profile.value == "reasoning" and (r.slo.ttft_ms, r.slo.tpot_ms) == (800, None)
    assert r.growth.multiplier == pytest.approx(1.21)
    assert r.growth.at_horizon.input_tokens_per_month == round(r.workload.input_tokens_per_month * 1.21)


@pytest.mark.parametrize("body, field", [
    ({"use_case": "chat", "scale": {"requests_per_second": 1, "sessions_per_user_per_day": 2}},
     "scale.sessions_per_user_per_day"),
    ({"use_case": "chat", "scale": {"requests_per_second": 1}, "content": {"system_prompt": {"value": 0},
     "prompt": {"value": 0}, "answer": {"value": 0}}}, "content"),
    ({"use_case": "summarization", "scale": {"requests_per_second": 1},
      "content": {"context": {"value": 20_000, "unit": "pages"}}}, "content"),
])
def test_descriptions_plan_llm_cannot_price_are_refused_naming_the_field(body, field):
    with pytest.raises(RequestRejected) as e:
        run(body)
    assert e.value.details[0].field == field
