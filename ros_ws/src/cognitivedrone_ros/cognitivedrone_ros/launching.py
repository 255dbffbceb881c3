"""What the two launch files share: one launch_ros Node per node of stack.plan_stack (the stack
YAML's node set, parameters and remappings, with what the launch arguments set over them), and
the end of a launch with its episode. Imports `launch` lazily: the rest of the package runs where
the launch system is not installed."""

from __future__ import annotations

from cognitivedrone_ros.stack import load_stack, plan_stack


def stack_nodes(context, overrides: dict[str, str], remap_arguments: dict[str, str] | None = None,
                on_sim_exit: bool = False):
    """`overrides`: launch argument -> the node whose parameter of that name it sets (when not
    empty). `remap_arguments`: launch argument -> the topic it remaps for every node (when not
    empty). `on_sim_exit`: the launch ends when sim_node does, failed unless the episode succeeded."""
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    given: dict[str, dict[str, str]] = {}
    for name, node in overrides.items():
        if value := arg(name):
            given.setdefault(node, {})[name] = value
    remaps = {topic: value for name, topic in (remap_arguments or {}).items() if (value := arg(name))}
    actions = []
    for node in plan_stack(load_stack(arg("config")), given, remaps).values():
        action = Node(package="cognitivedrone_ros", executable=node.name, name=node.name, output="screen",
                      parameters=[node.params], remappings=list(node.remaps.items()))
        actions.append(action)
        if on_sim_exit and node.name == "sim_node":
            actions.append(_end_with(action))
    return actions


class EpisodeFailed(RuntimeError):
    """The episode did not end in success: raised in the launch's event loop, so `ros2 launch`
    shuts down and exits 1."""


def _end_with(sim_node):
    """When sim_node exits (exit_on_outcome: 0 for success), end the launch: exit 0 on success,
    else raise EpisodeFailed, which `ros2 launch` turns into exit status 1."""
    from launch.actions import EmitEvent, LogInfo, RegisterEventHandler
    from launch.event_handlers import OnProcessExit
    from launch.events import Shutdown

    def on_exit(event, context):
        if event.returncode != 0:
            raise EpisodeFailed(f"sim_node exited with status {event.returncode}: the episode did not end in success")
        return [LogInfo(msg="the episode ended in success"), EmitEvent(event=Shutdown(reason="episode over"))]

    return RegisterEventHandler(OnProcessExit(target_action=sim_node, on_exit=on_exit))


def override_arguments(overrides: dict[str, str]):
    from launch.actions import DeclareLaunchArgument

    return [DeclareLaunchArgument(k, default_value="", description=f"{node} {k} (empty: as in the config)")
            for k, node in overrides.items()]
