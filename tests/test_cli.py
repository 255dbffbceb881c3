"""The command line: one-line errors with exit code 2 and nothing written."""

import json

import pytest

from cognitivedrone.cli import main
from cognitivedrone.tasks.generate import make_suite


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
    assert "not valid JSON" in err and len(err.splitlines()) == 1
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


# -- errors a user can fix: one line, exit 2, nothing flown or lost ----------------------------------

def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cognitivedrone: error: "), err
    return err


@pytest.fixture
def no_flying(monkeypatch):
    """bench must refuse before the suite flies: flying here fails the test."""
    import cognitivedrone.bench.runner as runner

    def fly(*a, **k):
        raise AssertionError("the suite was flown")

    monkeypatch.setattr(runner, "run_suite", fly)


def _bench(out, *extra):
    return main(["bench", "--suite", "smoke", "--limit", "1", "--workers", "1", "--quiet", "--out", str(out), *extra])


@pytest.mark.parametrize("where", ["file", "under_file", "proc"])
def test_bench_unusable_out_fails_before_flying(tmp_path, capsys, no_flying, where):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    out = {"file": afile, "under_file": afile / "run", "proc": "/proc/cognitivedrone-run"}[where]
    assert _bench(out) == 2
    assert str(out) in _one_line_error(capsys)
    assert afile.read_text() == "mine"


def test_bench_out_holding_a_run_is_refused(tmp_path, capsys, no_flying):
    out = tmp_path / "run"
    (out / "videos").mkdir(parents=True)
    (out / "results.json").write_text("{}")
    (out / "videos" / "old-0000.mp4").write_bytes(b"old")
    assert _bench(out) == 2
    err = _one_line_error(capsys)
    assert "already holds" in err and "--overwrite" in err
    assert (out / "results.json").read_text() == "{}" and (out / "videos" / "old-0000.mp4").exists()


def test_bench_out_with_other_files_is_never_cleared(tmp_path, capsys, no_flying):
    out = tmp_path / "home"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _bench(out, "--overwrite") == 2
    assert "notes.txt" in _one_line_error(capsys)
    assert (out / "notes.txt").read_text() == "mine"


def test_bench_overwrite_replaces_the_old_run(tmp_path, capsys):
    out = tmp_path / "run"
    (out / "videos").mkdir(parents=True)
    (out / "results.json").write_text("{}")
    (out / "videos" / "old-0000.mp4").write_bytes(b"old")
    assert _bench(out, "--video", "1", "--overwrite") == 0
    assert json.loads((out / "results.json").read_text())["n"] == 1
    assert [p.name for p in (out / "videos").iterdir()] == ["smoke-0000.mp4"]
    assert "old-0000" not in (out / "report.md").read_text()
    assert json.loads((out / "bench.json").read_text())["policy"] == "expert"


@pytest.mark.parametrize("flag, value", [("--limit", "-1"), ("--workers", "-3"), ("--workers", "0"), ("--video", "-1")])
def test_bench_rejects_negative_counts(capsys, no_flying, flag, value):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--suite", "smoke", "--quiet", flag, value])
    assert e.value.code == 2
    assert f"{flag}: " in capsys.readouterr().err


@pytest.fixture
def deep_json(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000)
    return path


def test_deeply_nested_suite_is_one_line(deep_json, capsys):
    assert main(["bench", "--suite", str(deep_json)]) == 2
    assert "nested" in _one_line_error(capsys)


def test_deeply_nested_reference_file_is_one_line(deep_json, tmp_path, capsys):
    assert main(["suite", "import", str(deep_json), "--out", str(tmp_path / "s.json")]) == 2
    assert "nested" in _one_line_error(capsys)
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("argv", [
    ["suite", "make", "--name", "x", "--episodes", "2", "--seed", "1", "--out", "{afile}/x.json"],
    ["suite", "import", "tests/tasks/data/ref_math.json", "--out", "{afile}/x.json"],
])
def test_suite_unwritable_out_is_one_line(tmp_path, capsys, argv):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    assert main([a.format(afile=afile) for a in argv]) == 2
    assert str(afile) in _one_line_error(capsys)


PLUGINS = {
    "cd_plug_boom": "raise RuntimeError('boom on import')\n",
    "cd_plug_syntax": "def (\n",
    "cd_plug_deps": "import cd_no_such_dependency\n",
    "cd_plug_ok": (
        "from cognitivedrone.reasoning import Reasoner, Rewrite\n"
        "class Bad(Reasoner):\n"
        "    def __init__(self):\n"
        "        raise RuntimeError('constructor boom')\n"
        "    def rewrite(self, instruction, image):\n"
        "        return Rewrite(instruction)\n"
        "class Abstract(Reasoner):\n"
        "    pass\n"
        "class NotOne:\n"
        "    pass\n"
    ),
}


@pytest.mark.parametrize("spec, says", [
    ("cd_no_such_module:C", "not found"),
    ("cd_no_such.module:C", "not found"),
    ("cd_plug_boom:C", "boom on import"),
    ("cd_plug_syntax:C", "SyntaxError"),
    ("cd_plug_deps:C", "cd_no_such_dependency"),
    ("cd_plug_ok:Missing", "Missing"),
    ("cd_plug_ok:Bad", "constructor boom"),
    ("cd_plug_ok:Abstract", "abstract"),
    ("cd_plug_ok:NotOne", "not a cognitivedrone.reasoning.Reasoner"),
])
def test_reasoner_plugin_errors_are_one_line(tmp_path, monkeypatch, capsys, spec, says):
    import numpy as np
    from PIL import Image

    for name, text in PLUGINS.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    image = tmp_path / "frame.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    assert main(["reason", "fly through the red gate", "--image", str(image), "--reasoner", spec]) == 2
    err = _one_line_error(capsys)
    assert spec in err and says in err


@pytest.mark.parametrize("out", ["/proc/cognitivedrone.png", "{afile}/x.png", "{tmp}/start.xyz"])
def test_view_unwritable_out_is_one_line(tmp_path, capsys, out):
    (tmp_path / "afile").write_text("mine")
    out = out.format(afile=tmp_path / "afile", tmp=tmp_path)
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", out]) == 2
    assert out in _one_line_error(capsys)


def test_view_bad_size_is_one_line(tmp_path, capsys):
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", str(tmp_path / "x.png"),
                 "--size", "-5"]) == 2
    _one_line_error(capsys)


def test_fly_unwritable_video_fails_before_flying(tmp_path, capsys, monkeypatch):
    import cognitivedrone.bench.episode as episode

    def fly(*a, **k):
        raise AssertionError("the episode was flown")

    monkeypatch.setattr(episode, "run_episode", fly)
    (tmp_path / "afile").write_text("mine")
    out = str(tmp_path / "afile" / "fly.mp4")
    assert main(["fly", "--suite", "smoke", "--reasoner", "none", "--video", out]) == 2
    assert out in _one_line_error(capsys)


def test_assets_sheet_unwritable_out_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    out = str(tmp_path / "afile" / "sheet.png")
    assert main(["assets", "sheet", "--out", out, "--size", "16"]) == 2
    assert out in _one_line_error(capsys)


def test_assets_list_unknown_kind_names_the_kinds(capsys):
    assert main(["assets", "list", "--kind", "bogus"]) == 2
    err = _one_line_error(capsys)
    assert "'bogus'" in err and "animal" in err and "vehicle" in err


def test_assets_sheet_too_small_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["assets", "sheet", "--out", str(tmp_path / "sheet.png"), "--size", "8"])
    assert e.value.code == 2 and "--size: must be 16 or more" in capsys.readouterr().err


def test_bench_over_several_looks_reports_each(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["bench", "--suite", "smoke", "--limit", "2", "--workers", "1", "--quiet", "--look", "classic,studio",
                 "--look-seed", "3", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert [e["look"] for e in results["episodes"]] == ["classic", "classic", "studio", "studio"]
    assert list(results["by_look"]) == ["classic", "studio"]
    assert "## By look" in (out / "report.md").read_text()
    assert json.loads((out / "bench.json").read_text())["look"] == "classic,studio"


def test_unknown_look_is_one_line(tmp_path, capsys):
    assert main(["bench", "--suite", "smoke", "--look", "classic,studoi", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "unknown look 'studoi'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_view_in_a_look(tmp_path, capsys):
    from PIL import Image

    a, b = tmp_path / "classic.png", tmp_path / "studio.png"
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", str(a)]) == 0
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", str(b), "--look", "studio"]) == 0
    assert "look studio" in capsys.readouterr().out
    assert Image.open(a).tobytes() != Image.open(b).tobytes()


# -- the generated command lines: bench, datagen, train ---------------------------------------------

def test_a_named_config_sets_its_settings_and_flags_beside_it_win():
    from cognitivedrone.cli import parse_config_verb

    cfg, quiet = parse_config_verb("bench", ["--config", "looks-offline", "--workers", "1", "--out", "runs/x"])
    assert (cfg.suite, cfg.policy, cfg.reasoner, cfg.engine, cfg.prompt) == (
        "cognitivedrone-v1", "checkpoints/default", "offline", "onnxruntime", "original")
    assert cfg.look == "classic,studio,outdoor,dim,randomized" and cfg.workers == 1 and not quiet
    train, _ = parse_config_verb("train", ["--config=default", "--data", "d", "--out", "o", "--steps", "7"])
    assert (train.steps, train.batch_size, train.eval_every) == (7, 64, 2000)
    made, quiet = parse_config_verb("datagen", ["--config", "default", "--out", "o", "--families", "symbol/digit,  x",
                                                "--quiet"])
    assert (made.episodes, made.looks, made.families, quiet) == (12000, "classic:1,randomized:3", ("symbol/digit", "x"),
                                                                 True)


def test_a_named_config_leaves_what_it_cannot_know_required(capsys):
    from cognitivedrone.cli import parse_config_verb

    with pytest.raises(SystemExit) as e:
        parse_config_verb("train", ["--config", "default", "--data", "d"])  # no --out
    assert e.value.code == 2 and "--out" in capsys.readouterr().err


def test_an_unknown_named_config_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit) as e:
        main(["datagen", "--config", "nope", "--out", "x"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "unknown name 'nope'" in err and "default:" in err


def test_todays_flags_still_read(tmp_path):
    from cognitivedrone.cli import parse_config_verb

    cfg, _ = parse_config_verb("bench", ["--suite", "smoke", "--policy", "expert", "--prompt", "simple", "--look-seed",
                                         "3", "--image-size", "64", "--control-hz", "5", "--overwrite", "--quiet"])
    assert (cfg.look_seed, cfg.image_size, cfg.control_hz, cfg.overwrite, cfg.quiet) == (3, 64, 5.0, True, True)
    assert "quiet" not in cfg.settings() and "overwrite" not in cfg.settings()


def test_every_verb_says_what_it_does_and_the_version_is_one_flag_away(capsys):
    import argparse

    from cognitivedrone import __version__
    from cognitivedrone.cli import build_parser

    def verbs(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield (*path, name), sub
                    yield from verbs(sub, (*path, name))

    found = dict(verbs(build_parser()))
    assert {("bench",), ("datagen",), ("train",), ("perception", "scenes"), ("looks", "gallery")} <= set(found)
    missing = [" ".join(p) for p, sub in found.items() if sub.add_help and not sub.description]
    assert not missing, f"no description: {missing}"
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"cognitivedrone {__version__}"


def test_a_missing_optional_package_is_one_line_naming_its_extra(capsys, monkeypatch):
    import cognitivedrone.cli as cli

    def needs_pybullet(args):
        raise ModuleNotFoundError("No module named 'pybullet'", name="pybullet")

    monkeypatch.setattr(cli, "cmd_view", needs_pybullet)
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", "x.png"]) == 2
    err = _one_line_error(capsys)
    assert "pybullet" in err and "cognitivedrone[sim]" in err

    def needs_our_own(args):
        raise ModuleNotFoundError("No module named 'cognitivedrone.nothing'", name="cognitivedrone.nothing")

    monkeypatch.setattr(cli, "cmd_view", needs_our_own)
    with pytest.raises(ModuleNotFoundError):  # not an optional package: a bug, shown as one
        main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--out", "x.png"])
