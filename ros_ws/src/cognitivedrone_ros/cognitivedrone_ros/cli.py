"""The `cognitivedrone stack` and `cognitivedrone record` verbs: the ROS 2 side's own commands,
added to the cognitivedrone command line through the `cognitivedrone.verbs` entry point
(setup.py), so the core package never imports ROS."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cognitivedrone.cli import UserError


def add_verbs(sub) -> None:
    st = sub.add_parser("stack", help="start the ROS 2 node set of sim.launch.py or drone.launch.py, one process per node",
                        description="Start the nodes of a stack config (the package's config/sim.yaml or drone.yaml, or "
                                    "a YAML of your own in ROS 2 parameter-file format) without the ROS 2 launch system, "
                                    "with the same executables and parameters as `ros2 launch`. Ctrl-C stops them all.")
    st.add_argument("config", help="sim, drone, teleop (the expert flies while the recorder writes a bag), or a path to a stack YAML")
    st.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE",
                    help="override a parameter, e.g. --set vla_node.engine=torch (repeatable)")
    st.add_argument("--remap", action="append", metavar="FROM:=TO",
                    help="remap a topic for every node, e.g. --remap camera/image_raw:=/camera/camera/color/image_raw")
    st.add_argument("--nodes", help="start only these nodes (comma-separated)")
    st.add_argument("--until-outcome", action="store_true",
                    help="sim: stop once sim_node publishes the episode outcome; exit 0 on success, 1 otherwise")
    st.add_argument("--timeout", type=float, default=0.0, help="stop after this many seconds (0: never; "
                    "with --until-outcome default 120)")
    st.add_argument("--logs", help="write each node's output to DIR/<node>.log instead of this terminal")
    st.set_defaults(func=cmd_stack)

    rec = sub.add_parser("record", help="record the stack's ROS 2 topics to a rosbag2 bag (MCAP) for fine-tuning",
                         description="Record the stack's topics (camera frames, instructions, commands, odometry, "
                                     "outcomes, diagnostics) as received, to a rosbag2 bag directory with MCAP storage "
                                     "that `ros2 bag info` and `ros2 bag play` read. Ctrl-C stops and finishes the bag.")
    rec.add_argument("--out", required=True, metavar="DIR", help="bag directory to create (must not exist)")
    rec.add_argument("--topics", metavar="A,B", help="comma-separated topics to record (default: all the stack's: "
                     "camera/image_raw, instruction, instruction/rewritten, cmd_vel, odom, episode/outcome, diagnostics)")
    rec.add_argument("--duration", type=float, default=0.0, metavar="S", help="stop after S seconds (default 0: until Ctrl-C)")
    rec.set_defaults(func=cmd_record)


def cmd_stack(args) -> int:
    from cognitivedrone_ros import stack

    if args.until_outcome and not args.timeout:
        args.timeout = 120.0

    try:
        config = stack.config_path(args.config)
        # Every stack talks on this machine only: the drone's ground station comes in through
        # ground_link (signed), not through DDS.
        s = stack.Stack(config, stack.parse_overrides(args.set or []),
                        tuple(args.nodes.split(",")) if args.nodes else None,
                        log_dir=Path(args.logs) if args.logs else None, remaps=tuple(args.remap or ()))
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    print(f"stack {config}: {', '.join(s.nodes)}" + (f" (logs in {args.logs})" if args.logs else ""))
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` and `timeout` stop the nodes too
    with s:
        if args.until_outcome:
            from cognitivedrone_ros.outcome import wait_for_outcome

            outcome = wait_for_outcome(args.timeout, alive=lambda: not s.exited())
            if outcome is None:
                why = f"nodes exited: {s.exited()}" if s.exited() else f"no outcome within {args.timeout:g} s"
                print(f"stack: {why}", file=sys.stderr)
                return 1
            print(f"outcome: {outcome['outcome']} (gate {outcome['gate_passed']}, target {outcome['target_gate']}, "
                  f"{outcome['time_s']:.1f} s sim time) episode {outcome['episode_id']}")
            return 0 if outcome["outcome"] == "success" else 1
        deadline = time.monotonic() + args.timeout if args.timeout else float("inf")
        while not s.exited() and time.monotonic() < deadline:
            time.sleep(0.2)
        exited = s.exited()
        if set(exited) == {"sim_node"} and exited["sim_node"] in (0, 1):  # exit_on_outcome: the episode is over
            print(f"stack: the episode is over ({'success' if exited['sim_node'] == 0 else 'no success'})")
            return exited["sim_node"]
        if exited:
            print(f"stack: node(s) exited: {exited}", file=sys.stderr)
            return 1
    return 0


def cmd_record(args) -> int:
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from cognitivedrone_ros.recorder import TOPICS, Recorder, bag_size, read_bag

    if args.duration < 0:
        print("cognitivedrone: error: --duration must be >= 0", file=sys.stderr)
        return 2
    rclpy.init(args=[])
    node = None
    try:
        node = Recorder(out=args.out, topics=args.topics or ",".join(TOPICS), max_duration_s=float(args.duration))
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        print(f"recording {', '.join(node.counts)} to {node.path} "
              f"({f'{args.duration:g} s' if args.duration else 'Ctrl-C to stop'})")
        while rclpy.ok() and not node.finished:
            executor.spin_once(timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except ValueError as exc:
        print(f"cognitivedrone: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    if node is None:  # Ctrl-C before the bag was opened
        return 130
    counts = read_bag(node.path)
    size = bag_size(node.path)
    print(f"{node.path}: {sum(counts.values())} messages, "
          + (f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"))
    for topic, n in counts.items():
        print(f"  {topic:28s} {n}")
    return 0
