"""vla_node + reasoner_node + mavros_bridge + ground_link on the drone's computer.

    ros2 launch cognitivedrone_ros drone.launch.py camera_topic:=/camera/camera/color/image_raw \
        engine:=tensorrt checkpoint:=/opt/cognitivedrone/checkpoints/default reasoner:=offline

The node set, every parameter and the topic remappings come from config/drone.yaml, as for
`cognitivedrone stack drone` (stack.plan_stack); the launch arguments override the few that
differ from drone to drone. The camera driver (RealSense, CSI via gscam/isaac_ros_argus)
and MAVROS are launched separately, as on any MAVROS vehicle.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from cognitivedrone_ros.launching import override_arguments, stack_nodes

OVERRIDES = {"engine": "vla_node", "checkpoint": "vla_node", "reasoner": "reasoner_node", "frame": "mavros_bridge",
             "listen": "ground_link", "keys_file": "ground_link"}
# Launch arguments that remap a topic for every node, over the YAML's remappings: the camera
# driver's topic, and the odometry whose altitude the safety filter bounds.
REMAP_ARGUMENTS = {"camera_topic": "camera/image_raw", "odom_topic": "odom"}


def generate_launch_description():
    default = os.path.join(get_package_share_directory("cognitivedrone_ros"), "config", "drone.yaml")
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value=default, description="stack YAML (node set + parameters)"),
        DeclareLaunchArgument("camera_topic", default_value="",
                              description="the camera's sensor_msgs/Image topic (any 8-bit RGB/BGR/mono; empty: the "
                                          "config's remapping of camera/image_raw)"),
        DeclareLaunchArgument("odom_topic", default_value="",
                              description="nav_msgs/Odometry with the altitude, for the safety filter's altitude "
                                          "bounds (empty: the config's remapping of odom)"),
        *override_arguments(OVERRIDES),
        OpaqueFunction(function=lambda context: stack_nodes(context, OVERRIDES, REMAP_ARGUMENTS)),
    ])
