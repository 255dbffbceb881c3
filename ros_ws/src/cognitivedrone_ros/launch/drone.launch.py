"""vla_node + reasoner_node + mavros_bridge on the drone's computer.

    ros2 launch cognitivedrone_ros drone.launch.py camera_topic:=/camera/camera/color/image_raw \
        engine:=tensorrt checkpoint:=/opt/cognitivedrone/checkpoints/default reasoner:=offline

The node set and every parameter come from config/drone.yaml; the launch arguments override the
few that differ from drone to drone. The camera driver (RealSense, CSI via gscam/isaac_ros_argus)
and MAVROS are launched separately, as on any MAVROS vehicle.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from cognitivedrone_ros.stack import load_stack

OVERRIDES = {"engine": "vla_node", "checkpoint": "vla_node", "reasoner": "reasoner_node", "frame": "mavros_bridge"}


def nodes(context):
    config = LaunchConfiguration("config").perform(context)
    camera = LaunchConfiguration("camera_topic").perform(context)
    actions = []
    for name in load_stack(config):
        extra = {k: LaunchConfiguration(k).perform(context) for k, node in OVERRIDES.items() if node == name}
        extra = {k: v for k, v in extra.items() if v}
        remap = [("camera/image_raw", camera)] if name in ("vla_node", "reasoner_node") else []
        actions.append(Node(package="cognitivedrone_ros", executable=name, name=name, output="screen",
                            parameters=[config, extra] if extra else [config], remappings=remap))
    return actions


def generate_launch_description():
    default = os.path.join(get_package_share_directory("cognitivedrone_ros"), "config", "drone.yaml")
    args = [DeclareLaunchArgument("config", default_value=default, description="stack YAML (node set + parameters)"),
            DeclareLaunchArgument("camera_topic", default_value="/camera/image_raw",
                                  description="the camera's sensor_msgs/Image topic (any 8-bit RGB/BGR/mono)")]
    args += [DeclareLaunchArgument(k, default_value="", description=f"{node} {k} (empty: as in the config)")
             for k, node in OVERRIDES.items()]
    return LaunchDescription([*args, OpaqueFunction(function=nodes)])
