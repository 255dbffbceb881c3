"""`bench --resume`: a run cut short carries on from its journal, flying only what is missing."""

import json
import math

import pytest

from cognitivedrone.bench.journal import JOURNAL, JournalWriter, read_journal
from cognitivedrone.bench.results import EpisodeResult
from cognitivedrone.cli import main


def _result(eid: str, outcome: str = "success", look: str = "classic", latency: float = 1.5) -> EpisodeResult:
    return EpisodeResult(episode_id=eid, category="human", family="f", outcome=outcome, gate_passed=1, time_s=4.0,
                         path_length_m=9.0, steps=40, latency_ms_mean=latency, latency_ms_p99=2.0, look=look,
                         doubt={"unflyable": 2, "last": "unflyable"})


def test_journal_round_trip_keeps_every_field_and_sums_wall_time(tmp_path):
    a, b, c = _result("e-0"), _result("e-1", "collision", latency=math.nan), _result("e-0", "wrong_gate", look="dim")
    with JournalWriter(tmp_path, run=0) as w:
        w.append(a, 10.0)
        w.append(b, 25.0)
    with JournalWriter(tmp_path, run=1) as w:
        w.append(c, 7.0)
    state = read_journal(tmp_path)
    assert state.runs == 2 and state.wall_s == pytest.approx(32.0)
    assert state.results[("classic", "e-0")] == a and state.results[("dim", "e-0")] == c
    assert math.isnan(state.results[("classic", "e-1")].latency_ms_mean)  # NaN is written as null, read back as NaN
    assert set(state.done_in("dim")) == {"e-0"}


def test_a_torn_last_line_is_flown_again_but_a_damaged_line_is_an_error(tmp_path):
    with JournalWriter(tmp_path, run=0) as w:
        w.append(_result("e-0"), 1.0)
    path = tmp_path / JOURNAL
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:30])  # killed mid-write: no newline at the end
    assert set(read_journal(tmp_path).results) == {("classic", "e-0")}
    path.write_bytes(b'{"run": 0, "elapsed_s": 1, "outcome": "flew"}\n' + whole)
    with pytest.raises(ValueError, match=r"line 1: not an episode record.*--overwrite"):
        read_journal(tmp_path)
    path.write_bytes(whole.replace(b'"success"', b'"landed"', 1))
    with pytest.raises(ValueError, match="unknown outcome 'landed'"):
        read_journal(tmp_path)


def _bench(out, *extra):
    return main(["bench", "--suite", "smoke", "--limit", "3", "--workers", "1", "--quiet", "--out", str(out), *extra])


def test_resume_flies_only_the_missing_episodes(tmp_path, capsys):
    out = tmp_path / "run"
    assert _bench(out) == 0
    full = json.loads((out / "results.json").read_text())
    lines = (out / JOURNAL).read_bytes().splitlines(keepends=True)
    assert len(lines) == 3 and all(json.loads(x)["run"] == 0 for x in lines)
    # Cut short after the first episode, halfway through writing the second; no report yet.
    (out / JOURNAL).write_bytes(lines[0] + lines[1][:20])
    (out / "results.json").unlink()
    (out / "report.md").unlink()
    capsys.readouterr()
    assert _bench(out, "--resume") == 0
    assert "resuming: 1 of 3 episode(s) already flown in 1 earlier run(s)" in capsys.readouterr().out
    runs = [json.loads(x)["run"] for x in (out / JOURNAL).read_bytes().splitlines()]
    assert runs == [0, 1, 1]  # the torn line was dropped; the two missing episodes flown once each
    again = json.loads((out / "results.json").read_text())
    assert again["n"] == 3
    assert [(e["episode_id"], e["outcome"]) for e in again["episodes"]] == \
        [(e["episode_id"], e["outcome"]) for e in full["episodes"]]
    assert (out / "report.md").exists()


def test_resume_refuses_other_settings_and_keeps_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert _bench(out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    assert _bench(out, "--resume", "--prompt", "simple") == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "prompt: 'original' then, 'simple' now" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_resume_of_nothing_starts_the_run_and_needs_an_out(tmp_path, capsys):
    out = tmp_path / "fresh"
    assert main(["bench", "--suite", "smoke", "--limit", "1", "--workers", "1", "--quiet", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "results.json").read_text())["n"] == 1
    assert main(["bench", "--suite", "smoke", "--limit", "1", "--quiet", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--suite", "smoke", "--out", str(out), "--resume", "--overwrite"])


def test_resume_refuses_a_reasoner_whose_weights_changed(tmp_path, capsys):
    import shutil

    from cognitivedrone.reasoning.offline.reasoner import DEFAULT_PERCEPTION

    perception = tmp_path / "perception"
    shutil.copytree(DEFAULT_PERCEPTION, perception)
    out = tmp_path / "run"
    policy = DEFAULT_PERCEPTION.parent / "default"
    args = ("--policy", str(policy), "--reasoner", f"offline:{perception}", "--limit", "1")
    assert main(["bench", "--suite", "smoke", "--workers", "1", "--quiet", "--out", str(out), *args]) == 0
    weights = perception / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")  # retrained in place, say
    capsys.readouterr()
    assert main(["bench", "--suite", "smoke", "--workers", "1", "--quiet", "--out", str(out), "--resume", *args]) == 2
    assert "reasoner_sha256" in capsys.readouterr().err
