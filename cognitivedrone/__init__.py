"""CognitiveDrone: an open vision-language-action stack for drones."""

from cognitivedrone.types import VelocityCommand

__all__ = ["VelocityCommand"]
__version__ = "0.1.0"
