"""How the simulator runs (rates, camera size, limits, start noise): plain data, importable
without pybullet, so configs that hold one (datagen, bench) stay light."""

from __future__ import annotations

from dataclasses import dataclass

from cognitivedrone.sim.airframes import get_airframe


@dataclass(frozen=True)
class SimConfig:
    airframe: str = "cf2x"
    physics_hz: int = 240
    control_hz: float = 10.0
    image_size: int = 128
    render_images: bool = True  # False skips the camera (privileged pilots don't need it)
    time_limit_s: float = 20.0
    out_of_bounds_m: float = 10.0  # farther than this from every gate ends the episode
    start_noise_xy_m: float = 1.0
    start_noise_z_m: float = 0.1
    start_noise_yaw_rad: float = 0.15
    gate_jitter_m: float = 0.0
    gate_jitter_yaw_rad: float = 0.0
    randomize_lighting: bool = True

    def __post_init__(self):
        get_airframe(self.airframe)  # ValueError naming the known airframes
        if not self.control_hz > 0 or self.image_size < 8:
            raise ValueError(f"control_hz must be > 0 and image_size >= 8 (got {self.control_hz}, {self.image_size})")
        ratio = self.physics_hz / self.control_hz
        if abs(ratio - round(ratio)) > 1e-9 or ratio < 1:
            raise ValueError(f"physics_hz ({self.physics_hz}) must be a whole multiple of control_hz ({self.control_hz})")

    @property
    def substeps(self) -> int:
        return int(round(self.physics_hz / self.control_hz))
