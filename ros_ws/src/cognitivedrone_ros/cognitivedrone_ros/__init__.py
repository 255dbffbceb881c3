"""ROS 2 nodes of CognitiveDrone. The nodes are thin: the logic is in `cognitivedrone`."""
