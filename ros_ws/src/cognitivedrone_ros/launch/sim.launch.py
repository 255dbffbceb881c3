"""sim_node + vla_node + reasoner_node: the simulated drone flying one benchmark episode.

    ros2 launch cognitivedrone_ros sim.launch.py [config:=/path/to/stack.yaml] [engine:=torch]
        [reasoner:=openai:http://localhost:8000/v1#qwen] [episode:=cognitivedrone-v1-0042]

The node set and every parameter come from config/sim.yaml (`cognitivedrone stack sim` starts
the same set from the same file where the launch system is not installed).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from cognitivedrone_ros.stack import load_stack

OVERRIDES = {"engine": "vla_node", "checkpoint": "vla_node", "reasoner": "reasoner_node", "episode": "sim_node",
             "suite": "sim_node"}


def nodes(context):
    config = LaunchConfiguration("config").perform(context)
    actions = []
    for name in load_stack(config):
        extra = {k: LaunchConfiguration(k).perform(context) for k, node in OVERRIDES.items() if node == name}
        extra = {k: v for k, v in extra.items() if v}
        actions.append(Node(package="cognitivedrone_ros", executable=name, name=name, output="screen",
                            parameters=[config, extra] if extra else [config]))
    return actions


def generate_launch_description():
    default = os.path.join(get_package_share_directory("cognitivedrone_ros"), "config", "sim.yaml")
    args = [DeclareLaunchArgument("config", default_value=default, description="stack YAML (node set + parameters)")]
    args += [DeclareLaunchArgument(k, default_value="", description=f"{node} {k} (empty: as in the config)")
             for k, node in OVERRIDES.items()]
    return LaunchDescription([*args, OpaqueFunction(function=nodes)])
