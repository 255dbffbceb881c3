"""The command line: one-line errors with exit code 2 and nothing written."""

import json

import pytest

from cognitivedrone.bench.generate import make_suite
from cognitivedrone.cli import main


@pytest.mark.parametrize("mutate, expect", [
    (lambda raw: raw["episodes"][1]["options"].__setitem__(2, "animal:no_such_animal"), "'options'"),
    (lambda raw: raw["episodes"][1].pop("prompt"), "'prompt'"),
    (lambda raw: raw["episodes"][1].__setitem__("correct", 7), "'correct'"),
])
def test_bad_suite_exits_2_and_writes_nothing(tmp_path, capsys, mutate, expect):
    raw = make_suite("bad", 3, seed=1).to_json()
    mutate(raw)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    out = tmp_path / "run"
    code = main(["bench", "--suite", str(path), "--policy", "expert", "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "bad-0001" in err and expect in err
    assert not out.exists()


def test_malformed_json_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["bench", "--suite", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "malformed JSON" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_unknown_policy_exits_2(capsys):
    assert main(["bench", "--suite", "smoke", "--policy", "telepathy"]) == 2
    assert "unknown policy" in capsys.readouterr().err


def test_suite_make_and_bench_expert(tmp_path, capsys):
    path = tmp_path / "mini.json"
    assert main(["suite", "make", "--name", "mini", "--episodes", "6", "--seed", "5", "--out", str(path)]) == 0
    out = tmp_path / "run"
    assert main(["bench", "--suite", str(path), "--policy", "expert", "--workers", "1", "--out", str(out),
                 "--video", "1", "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["n"] == 6 and res["success_rate"] == 1.0
    assert (out / "report.md").exists() and (out / "success_by_category.png").exists()
    assert len(list((out / "videos").glob("*.mp4"))) == 1


def test_view_writes_png(tmp_path):
    out = tmp_path / "start.png"
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", str(out)]) == 0
    from PIL import Image
    assert Image.open(out).size == (128, 128)
