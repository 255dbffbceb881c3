"""Training: loss goes down, runs resume, fine-tuning keeps the normaliser, DDP under torchrun."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from cognitivedrone.data.datagen import DatagenConfig, generate
from cognitivedrone.policy.checkpoint import FilmCnnVLA
from cognitivedrone.policy.filmcnn.configuration import FilmCnnConfig
from cognitivedrone.policy.filmcnn.modeling import FilmCnnPolicy
from cognitivedrone.policy.text_encoder import TextEncoder
from cognitivedrone.training.config import TrainConfig
from cognitivedrone.training.data import TrainingData, build_text_table
from cognitivedrone.training.train import train


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "demos"
    generate(DatagenConfig(episodes=4, seed=11, out=str(out), workers=1, shard_episodes=2), progress=False)
    return str(out)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _metrics(out):
    return [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]


def _cfg(data, out, **kw):
    base = dict(data=data, out=str(out), steps=40, batch_size=16, lr=3e-3, warmup_steps=5, log_every=5,
                save_every=20, eval_suite="", augment=False, simple_prompt_prob=0.5)
    base.update(kw)
    return TrainConfig(**base)


def _fixed_batch_loss(model, data, normalizer, text):
    """The training loss on one fixed batch (same frames, instructions and targets)."""
    b = data.batch(np.random.default_rng(123), 64, normalizer, 0.5, augment=False)
    rows = b.pop("text_rows")
    b.update(text_tokens=text.tokens[rows].float(), text_mask=text.mask[rows], text_pooled=text.pooled[rows])
    with torch.no_grad():
        return float(model.eval().loss(b)[0])


@pytest.mark.parametrize("head", ["chunk_l1", "tokens256"])
def test_a_few_steps_lower_the_loss(tiny_dataset, tmp_path, head):
    cfg = _cfg(tiny_dataset, tmp_path / head, head=head, steps=60)
    train(cfg, progress=False)
    trained = FilmCnnVLA.from_pretrained(tmp_path / head)
    assert trained.config.head == head
    torch.manual_seed(cfg.seed)  # the trainer's initialisation
    initial = FilmCnnPolicy(trained.config)
    data = TrainingData(tiny_dataset, chunk_size=trained.config.chunk_size)
    text = build_text_table(data.texts, TextEncoder(max_tokens=trained.config.text_tokens))
    before = _fixed_batch_loss(initial, data, trained.normalizer, text)
    after = _fixed_batch_loss(trained.model, data, trained.normalizer, text)
    assert after < 0.7 * before, (before, after)


def test_resume_continues_and_refuses_other_settings(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    train(_cfg(tiny_dataset, out, steps=20), progress=False)
    assert (out / "checkpoints" / "step_000020" / "training_state.pt").exists()
    train(_cfg(tiny_dataset, out, steps=30), progress=False)  # more steps: allowed, resumes
    steps = [m["step"] for m in _metrics(out) if "loss" in m]
    assert steps[-1] == 30 and steps.count(20) == 1, steps  # steps 1..20 were not trained twice
    with pytest.raises(ValueError, match="lr"):
        train(_cfg(tiny_dataset, out, steps=40, lr=1e-2), progress=False)


def test_fine_tuning_keeps_architecture_and_normaliser(tiny_dataset, tmp_path):
    base = tmp_path / "base"
    # The base has the non-default head: the tuned model must keep it, not take the default.
    assert TrainConfig(data="d", out="o").head != "chunk_l1"
    train(_cfg(tiny_dataset, base, steps=10, head="chunk_l1"), progress=False)
    tuned = tmp_path / "tuned"
    train(_cfg(tiny_dataset, tuned, steps=10, init=str(base)), progress=False)
    a, b = FilmCnnVLA.from_pretrained(base), FilmCnnVLA.from_pretrained(tuned)
    assert b.config.head == "chunk_l1"
    assert a.normalizer.to_dict() == b.normalizer.to_dict()
    assert any(not torch.equal(p, q) for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()))


def test_family_filter_that_leaves_nothing_is_an_error(tiny_dataset, tmp_path):
    with pytest.raises(ValueError, match="no training frames"):
        train(_cfg(tiny_dataset, tmp_path / "none", families="no/such-family"), progress=False)


def test_torchrun_two_processes(tiny_dataset, tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cognitivedrone.cli", "train", "--data", tiny_dataset, "--out", str(out), "--steps", "6",
           "--batch-size", "8", "--save-every", "3", "--eval-suite", "", "--threads", "1", "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 process(es)" in proc.stdout
    FilmCnnVLA.from_pretrained(out)
    assert [m["step"] for m in _metrics(out) if "loss" in m][-1] == 6


def test_eval_every_minus_one_never_flies_the_eval_suite(tiny_dataset, tmp_path):
    out = tmp_path / "noeval"
    train(_cfg(tiny_dataset, out, steps=6, save_every=3, eval_suite="smoke", eval_every=-1), progress=False)
    assert not [m for m in _metrics(out) if "eval" in m]
    assert (out / "checkpoints" / "step_000006").is_dir()


# -- what a user can fix is one line, and a run that fails early leaves nothing behind -------------

def _cli(capsys, data, out, *extra):
    from cognitivedrone.cli import main

    rc = main(["train", "--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "4",
               "--eval-suite", "", "--threads", "1", "--quiet", *extra])
    return rc, capsys.readouterr().err


def _broken_copy(src, dst, how):
    """A copy of a dataset with one corrupt PNG, 3-D actions, or actions no drone flies."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(src, dst)
    path = next((dst / "data").glob("*/*.parquet"))
    t = pq.read_table(path)
    if how == "png":
        name, cells = "observation.image", t.column("observation.image").to_pylist()
        cells[7]["bytes"] = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        col = pa.array(cells, t.schema.field(name).type)
    else:
        name, a = "action", np.array(t.column("action").to_pylist(), np.float32)
        col = pa.array(a[:, :3].tolist(), pa.list_(pa.float32(), 3)) if how == "action3" else \
            pa.array((a * 0 + 5e4).tolist(), t.schema.field(name).type)
    pq.write_table(t.set_column(t.column_names.index(name), name, col), path)
    return path


@pytest.mark.parametrize("how, match", [("png", "row 7"), ("action3", "3 values, expected 4"), ("huge", r"1e\+03")])
@pytest.mark.parametrize("out_exists", [False, True])
def test_bad_dataset_is_one_line_and_claims_no_run_folder(tiny_dataset, tmp_path, capsys, how, match, out_exists):
    data = tmp_path / "bad"
    path = _broken_copy(tiny_dataset, data, how)
    out = tmp_path / "run"
    if out_exists:
        out.mkdir()
    rc, err = _cli(capsys, data, out)
    assert rc == 2 and err.startswith("cognitivedrone: error: ") and err.count("\n") == 1, err
    assert re.search(match, err) and (str(path) in err or str(data) in err), err
    # Nothing was claimed: no run folder, or the empty one as it was (a rerun must not resume a config for it).
    assert list(out.iterdir()) == [] if out_exists else not out.exists()


def test_corrupt_image_found_during_training_is_one_line(tiny_dataset, tmp_path):
    """A PNG whose chunks are intact but whose pixels do not decode passes the up-front check:
    the batch that draws it names it, as a DatasetError."""
    import pyarrow as pa

    from cognitivedrone.data.lerobot_format import DatasetError

    data = TrainingData(tiny_dataset, chunk_size=4)
    first = data._image_chunks[0]
    data._image_chunks[0] = pa.array([b"\x89PNG"] + first.to_pylist()[1:], pa.binary())
    with pytest.raises(DatasetError, match="row 0.*image"):
        data.decode(0)


@pytest.mark.parametrize("where", ["under_file", "proc"])
def test_unwritable_out_is_refused_before_any_work(tiny_dataset, tmp_path, capsys, monkeypatch, where):
    import cognitivedrone.training.train as train_mod

    def no_work(*a, **k):
        raise AssertionError("the data was loaded before --out was checked")

    monkeypatch.setattr(train_mod, "TrainingData", no_work)
    if where == "under_file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "run"
    else:
        out = "/proc/cognitivedrone-no-such/run"
    rc, err = _cli(capsys, tiny_dataset, out)
    assert rc == 2 and err.startswith("cognitivedrone: error: --out ") and err.count("\n") == 1, err


def test_absurd_init_normalisation_is_one_line(tiny_dataset, tmp_path, capsys):
    from cognitivedrone.policy.filmcnn.processing import ActionNormalizer

    init = tmp_path / "init"
    FilmCnnVLA(FilmCnnConfig(), ActionNormalizer([-1.0] * 4, [1.0] * 4)).save_pretrained(init)
    (init / "normalization.json").write_text(json.dumps({"q01": [-1e308] * 4, "q99": [1e308] * 4}))
    rc, err = _cli(capsys, tiny_dataset, tmp_path / "run", "--init", str(init))
    assert rc == 2 and "normalization.json" in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_hostile_train_config_is_one_line(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "train_config.json").write_text("[" * 100_000 + "]" * 100_000)
    rc, err = _cli(capsys, tiny_dataset, out)
    assert rc == 2 and "train_config.json" in err and err.count("\n") == 1, err
