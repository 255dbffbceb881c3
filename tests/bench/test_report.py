import json

import pytest

from cognitivedrone.bench.report import print_summary, render_markdown, summarize, wilson_interval, write_report
from cognitivedrone.bench.results import EpisodeResult

SCHEMA_KEYS = [
    "suite", "policy", "reasoner", "engine", "prompt", "n", "success_rate", "by_category",
    "by_family", "by_look", "failures", "rewrite_accuracy", "wall_s", "ci95", "time_to_goal_s",
    "path_length_m", "policy_latency_ms", "reasoner_latency_ms", "doubt", "faults", "episodes",
]


def ep(i, category, family, outcome, *, time_s=4.0, path=6.0, steps=40, lat=2.0, p99=5.0, rewrite=None):
    return EpisodeResult(
        episode_id=f"ep-{i:03d}", category=category, family=family, outcome=outcome,
        gate_passed=1 if outcome in ("success", "wrong_gate") else None, time_s=time_s,
        path_length_m=path, steps=steps, latency_ms_mean=lat, latency_ms_p99=p99,
        prompt="fly through the gate", rewrite_correct=rewrite,
    )


def sample_results():
    # listed out of category order on purpose
    return [
        ep(0, "reasoning", "arithmetic", "success", time_s=5.0, rewrite=True),
        ep(1, "reasoning", "arithmetic", "wrong_gate", rewrite=False),
        ep(2, "reasoning", "category", "timeout", time_s=20.0, rewrite=True),
        ep(3, "symbol", "digit", "success", time_s=3.0),
        ep(4, "symbol", "letter", "success", time_s=4.0),
        ep(5, "symbol", "digit", "collision"),
        ep(6, "human", "profession", "success", time_s=4.0),
        ep(7, "human", "profession", "out_of_bounds"),
        ep(8, "human", "beard", "success", time_s=6.0),
        ep(9, "human", "beard", "collision"),
    ]


def summary_of(results, **kw):
    args = dict(suite="smoke", policy="expert", reasoner=None, engine=None, prompt="prompt", wall_s=12.5)
    args.update(kw)
    return summarize(results, **args)


def test_wilson_known_values():
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(30, 100)
    assert lo < 0.3 < hi and 0 <= lo and hi <= 1
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_by_look_table_per_look_and_category():
    from dataclasses import replace

    rs = sample_results()
    s = summary_of(rs)
    assert list(s["by_look"]) == ["classic"] and "## By look" not in render_markdown(s)
    looked = rs + [replace(r, look="studio", outcome="success" if i < 2 else "collision") for i, r in enumerate(rs)]
    s = summary_of(looked)
    assert list(s["by_look"]) == ["classic", "studio"]
    assert s["by_look"]["studio"]["overall"]["n"] == len(rs)
    assert s["by_look"]["studio"]["overall"]["success_rate"] == pytest.approx(2 / len(rs))
    assert s["by_look"]["classic"]["overall"]["success_rate"] == pytest.approx(0.5)
    md = render_markdown(s)
    assert "## By look" in md and "| studio |" in md


def test_summarize_counts_rates_and_schema():
    s = summary_of(sample_results())
    assert list(s) == SCHEMA_KEYS
    assert s["n"] == 10
    assert s["success_rate"] == pytest.approx(0.5)
    assert s["ci95"] == pytest.approx(list(wilson_interval(5, 10)))
    assert list(s["by_category"]) == ["human", "symbol", "reasoning"]
    assert s["by_category"]["human"] == {"n": 4, "success_rate": 0.5, "ci95": pytest.approx(list(wilson_interval(2, 4)))}
    assert s["by_category"]["symbol"]["n"] == 3
    assert s["by_category"]["symbol"]["success_rate"] == pytest.approx(2 / 3)
    assert s["by_category"]["reasoning"]["success_rate"] == pytest.approx(1 / 3)
    for g in s["by_category"].values():
        assert list(g) == ["n", "success_rate", "ci95"]
    # families: grouped by category order, alphabetical inside
    assert list(s["by_family"]) == ["beard", "profession", "digit", "letter", "arithmetic", "category"]
    assert s["by_family"]["digit"]["n"] == 2 and s["by_family"]["digit"]["success_rate"] == 0.5
    assert s["by_family"]["letter"]["success_rate"] == 1.0
    assert s["by_family"]["category"]["success_rate"] == 0.0
    assert s["failures"] == {"wrong_gate": 1, "collision": 2, "out_of_bounds": 1, "timeout": 1}
    assert list(s["failures"]) == ["wrong_gate", "collision", "out_of_bounds", "timeout"]
    assert s["rewrite_accuracy"] == pytest.approx(2 / 3)
    assert s["time_to_goal_s"] == pytest.approx((5 + 3 + 4 + 4 + 6) / 5)
    assert s["path_length_m"] == pytest.approx(6.0)
    assert s["policy_latency_ms"] == {"mean": pytest.approx(2.0), "p99": pytest.approx(5.0)}
    assert s["wall_s"] == 12.5
    assert [e["episode_id"] for e in s["episodes"]] == [f"ep-{i:03d}" for i in range(10)]
    assert s["episodes"][0] == sample_results()[0].to_json()


def test_summarize_nulls_and_empty():
    rs = [ep(0, "symbol", "digit", "timeout"), ep(1, "symbol", "digit", "collision")]
    s = summary_of(rs)
    assert s["rewrite_accuracy"] is None
    assert s["time_to_goal_s"] is None
    assert s["success_rate"] == 0.0
    assert s["ci95"][0] == 0.0
    empty = summary_of([])
    assert list(empty) == SCHEMA_KEYS
    assert empty["n"] == 0 and empty["ci95"] == [0.0, 1.0] and empty["by_category"] == {}
    assert empty["path_length_m"] is None and empty["policy_latency_ms"] == {"mean": None, "p99": None}
    json.dumps(empty, allow_nan=False)


def test_summarize_latency_weighted_and_nan_safe():
    rs = [ep(0, "human", "hat", "success", steps=10, lat=1.0, p99=2.0),
          ep(1, "human", "hat", "success", steps=30, lat=3.0, p99=float("nan"), path=float("nan"))]
    s = summary_of(rs)
    assert s["policy_latency_ms"]["mean"] == pytest.approx((10 * 1 + 30 * 3) / 40)
    assert s["policy_latency_ms"]["p99"] == pytest.approx(2.0)
    assert s["path_length_m"] == pytest.approx(6.0)
    assert s["episodes"][1]["latency_ms_p99"] is None
    json.dumps(s, allow_nan=False)


def test_unknown_category_comes_last_and_unknown_outcome_raises():
    rs = [ep(0, "zzz", "misc", "success"), ep(1, "reasoning", "negation", "success"), ep(2, "human", "hat", "timeout")]
    assert list(summary_of(rs)["by_category"]) == ["human", "reasoning", "zzz"]
    with pytest.raises(ValueError, match="ep-009"):
        summary_of([ep(9, "human", "hat", "crashed")])


def test_write_report_files(tmp_path):
    s = summary_of(sample_results(), reasoner="qwen", engine="vllm")
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "ep-000.mp4").write_bytes(b"")
    (tmp_path / "videos" / "other-run-000.mp4").write_bytes(b"")  # not an episode of this run
    paths = write_report(s, tmp_path / "out")
    assert set(paths) == {"results", "report", "plot"}
    for p in paths.values():
        assert p.exists() and p.stat().st_size > 0
    loaded = json.loads(paths["results"].read_text())
    assert loaded == s
    assert list(loaded) == SCHEMA_KEYS
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["report"].read_text()
    assert "smoke" in md and "expert" in md and "qwen" in md and "vllm" in md
    assert "| human | 4 | 50.0% |" in md
    assert "| reasoning | 3 | 33.3% |" in md
    assert "| letter | 1 | 100.0% |" in md
    assert "| wrong gate | 1 |" in md and "| collision | 2 |" in md
    assert "**overall**" in md and "Wilson" in md
    assert "![](success_by_category.png)" in md
    assert "videos/" not in md  # no videos folder in out/

    paths = write_report(s, tmp_path)  # now with a videos/ folder
    md = paths["report"].read_text()
    assert "[ep-000.mp4](videos/ep-000.mp4)" in md
    assert "other-run-000" not in md  # a report links only its own episodes' videos


def test_print_summary_runs():
    from rich.console import Console

    console = Console(record=True, width=100)
    print_summary(summary_of(sample_results()), console=console)
    text = console.export_text()
    assert "human" in text and "overall" in text and "50.0%" in text
    assert "wrong gate 1" in text and "collision 2" in text
    assert "12.5 s" in text


def test_results_say_where_the_pilot_hovered_or_searched_instead_of_flying():
    from cognitivedrone.bench.report import summarize
    from cognitivedrone.bench.results import EpisodeResult

    def ep(i, outcome, doubt):
        return EpisodeResult(f"s-{i:04d}", "human", "human/x", outcome, None, 3.0, 1.0, 30, 1.0, 1.2, doubt=doubt)

    rs = [ep(0, "success", {"unflyable": 0, "searching": 0, "gate_lost": 0, "last": ""}),
          ep(1, "timeout", {"unflyable": 0, "searching": 40, "gate_lost": 20, "last": "hovering: no gate found"}),
          ep(2, "success", {"unflyable": 3, "searching": 5, "gate_lost": 0, "last": "searching"})]
    kw = dict(suite="s", policy="p", reasoner=None, engine=None, prompt="original", wall_s=1.0)
    s = summarize(rs, **kw)
    assert s["doubt"] == {"unflyable": {"episodes": 1, "decisions": 3, "succeeded": 1},
                          "searching": {"episodes": 2, "decisions": 45, "succeeded": 1},
                          "gate_lost": {"episodes": 1, "decisions": 20, "succeeded": 0}}
    assert s["episodes"][1]["doubt"]["last"].startswith("hovering")
    assert summarize(rs[:0] + [EpisodeResult("s-0009", "human", "human/x", "success", 1, 3.0, 1.0, 30, 1.0, 1.2)],
                     **kw)["doubt"] is None  # agents that cannot doubt (the expert)


def test_faults_are_summed_over_the_run_and_a_reasoner_that_never_answered_is_told_apart():
    from cognitivedrone.bench.report import reasoner_never_answered, render_markdown, summarize
    from cognitivedrone.bench.results import FAULTS, EpisodeResult

    def ep(i, **faults):
        counts = dict.fromkeys(FAULTS, 0) | faults
        return EpisodeResult(f"s-{i:04d}", "human", "human/x", "timeout", None, 3.0, 1.0, 30, 1.0, 1.2, faults=counts)

    kw = dict(suite="s", policy="p", reasoner="openai:http://x", engine="torch", prompt="original", wall_s=1.0)
    down = summarize([ep(0, reasoner_calls=10, reasoner_failures=10), ep(1, reasoner_calls=8, reasoner_failures=8,
                                                                        safety_interventions=2)], **kw)
    assert down["faults"]["reasoner_failures"] == {"count": 18, "episodes": 2}
    assert down["faults"]["safety_interventions"] == {"count": 2, "episodes": 1}
    assert reasoner_never_answered(down)
    assert "| reasoner failures (errors, timeouts) | 18 | 2 |" in render_markdown(down)
    flaky = summarize([ep(0, reasoner_calls=10, reasoner_failures=9, reasoner_answers=1)], **kw)
    assert not reasoner_never_answered(flaky)
    assert not reasoner_never_answered(summarize([ep(0)], **{**kw, "reasoner": None}))
