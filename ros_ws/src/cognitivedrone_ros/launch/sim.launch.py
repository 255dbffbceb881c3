"""sim_node + vla_node + reasoner_node: the simulated drone flying one benchmark episode.

    ros2 launch cognitivedrone_ros sim.launch.py [config:=/path/to/stack.yaml] [engine:=torch]
        [reasoner:=openai:http://localhost:8000/v1#qwen] [episode:=cognitivedrone-v1-0042]

The node set and every parameter come from config/sim.yaml (`cognitivedrone stack sim` starts
the same set from the same file where the launch system is not installed). The launch ends with
the episode (sim.yaml: exit_on_outcome): exit status 0 on success, 1 otherwise.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from cognitivedrone_ros.launching import override_arguments, stack_nodes

OVERRIDES = {"engine": "vla_node", "checkpoint": "vla_node", "reasoner": "reasoner_node", "episode": "sim_node",
             "suite": "sim_node"}


def generate_launch_description():
    default = os.path.join(get_package_share_directory("cognitivedrone_ros"), "config", "sim.yaml")
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value=default, description="stack YAML (node set + parameters)"),
        *override_arguments(OVERRIDES),
        OpaqueFunction(function=lambda context: stack_nodes(context, OVERRIDES, on_sim_exit=True)),
    ])
