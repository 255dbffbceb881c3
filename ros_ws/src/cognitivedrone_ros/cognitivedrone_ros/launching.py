"""What the two launch files share: one launch_ros Node per entry of a stack YAML, with the
launch arguments that override a parameter, and topic remappings. Imports `launch` lazily: the
rest of the package runs where the launch system is not installed."""

from __future__ import annotations

from cognitivedrone_ros.stack import load_stack, nodes_to_start


def stack_nodes(context, overrides: dict[str, str], remappings: dict[str, list[tuple[str, str]]] | None = None):
    """`overrides`: launch argument -> the node whose parameter of that name it sets (when not
    empty). `remappings`: node -> [(from, launch argument holding the target topic)]."""
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    config = LaunchConfiguration("config").perform(context)
    given = {}
    for arg, node in overrides.items():
        if value := LaunchConfiguration(arg).perform(context):
            given.setdefault(node, {})[arg] = value
    actions = []
    for name, extra in nodes_to_start(load_stack(config), given).items():
        remap = [(src, LaunchConfiguration(arg).perform(context)) for src, arg in (remappings or {}).get(name, [])]
        actions.append(Node(package="cognitivedrone_ros", executable=name, name=name, output="screen",
                            parameters=[config, extra] if extra else [config], remappings=remap))
    return actions


def override_arguments(overrides: dict[str, str]):
    from launch.actions import DeclareLaunchArgument

    return [DeclareLaunchArgument(k, default_value="", description=f"{node} {k} (empty: as in the config)")
            for k, node in overrides.items()]
