"""ament_python package: `colcon build` on a ROS 2 machine, or `pip install` into a venv that has
the ROS 2 wheels (README, ROS 2). Executables land in lib/cognitivedrone_ros for `ros2 run`."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "cognitivedrone_ros"
NODES = ["vla_node", "reasoner_node", "sim_node", "mavros_bridge", "recorder", "ground_link"]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="CognitiveDrone maintainers",
    description="ROS 2 nodes of CognitiveDrone (VLA, reasoner, simulator, MAVROS bridge, recorder)",
    license="Apache-2.0",
    entry_points={"console_scripts": [f"{n} = {PACKAGE}.{n}:main" for n in NODES],
                  # `cognitivedrone stack` and `cognitivedrone record` (cognitivedrone_ros/cli.py)
                  "cognitivedrone.verbs": [f"ros = {PACKAGE}.cli:add_verbs"]},
)
