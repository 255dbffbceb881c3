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

from cognitivedrone_ros.launching import override_arguments, stack_nodes

OVERRIDES = {"engine": "vla_node", "checkpoint": "vla_node", "reasoner": "reasoner_node", "frame": "mavros_bridge"}
# The camera driver's topic for both nodes that read frames; MAVROS's odometry for the altitude bounds.
REMAPPINGS = {"vla_node": [("camera/image_raw", "camera_topic"), ("odom", "odom_topic")],
              "reasoner_node": [("camera/image_raw", "camera_topic")]}


def generate_launch_description():
    default = os.path.join(get_package_share_directory("cognitivedrone_ros"), "config", "drone.yaml")
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value=default, description="stack YAML (node set + parameters)"),
        DeclareLaunchArgument("camera_topic", default_value="/camera/image_raw",
                              description="the camera's sensor_msgs/Image topic (any 8-bit RGB/BGR/mono)"),
        DeclareLaunchArgument("odom_topic", default_value="/mavros/local_position/odom",
                              description="nav_msgs/Odometry with the altitude (the safety filter's altitude bounds)"),
        *override_arguments(OVERRIDES),
        OpaqueFunction(function=lambda context: stack_nodes(context, OVERRIDES, REMAPPINGS)),
    ])
