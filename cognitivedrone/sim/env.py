"""A gymnasium environment: a quadrotor among three gates, flown by body-frame velocity commands.

    env = DroneEnv(SimConfig(image_size=128))
    obs, info = env.reset(seed=3, options={"gates": [GateAppearance(...), ...], "instruction": "..."})
    obs, reward, terminated, truncated, info = env.step(VelocityCommand(vx=1.0))

Physics runs at `physics_hz` (240); the controller runs every physics step on the command
held for one control period (1 / `control_hz`); the camera renders once per control period.
A look (`options["look"]`, a `cognitivedrone.sim.look.Look`) says how the world appears: the
camera, its lens, the scene around the gates, the light, the gates' build and the billboards'
print; without one the episode is "classic", today's world. The task's gates, the start pose
and the success rules do not depend on the look.
`info["event"]` reports what happened during the step: "gate" (flew through gate
`info["gate_index"]`'s opening), "collision" (touched a gate, billboard or the floor; the body
is in `info["hit"]`), "out_of_bounds", or None. The episode terminates on any of these and is
truncated at `time_limit_s`. Same seed and commands, same episode.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field, replace

import gymnasium as gym
import numpy as np
import pybullet as p
from gymnasium import spaces

from cognitivedrone.sim.airframes import get_airframe
from cognitivedrone.sim.camera import CameraConfig, FPVCamera
from cognitivedrone.sim.config import SimConfig
from cognitivedrone.sim.control import VelocityController
from cognitivedrone.sim.dynamics import DroneState, Quadrotor
from cognitivedrone.sim.lens import apply_lens
from cognitivedrone.sim.look import Look
from cognitivedrone.sim.world import GateAppearance, World, jitter_layout, reference_layout
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES
from cognitivedrone.types import VelocityCommand

NOMINAL_START = (-1.0, 0.0, 0.75)


@dataclass
class EpisodeSetup:
    """What reset() sampled from the seed (kept for logging and for privileged pilots)."""

    start_pos: tuple[float, float, float]
    start_yaw: float
    light_direction: tuple[float, float, float]
    looks: list[GateAppearance] = field(default_factory=list)
    look: Look = field(default_factory=Look)


class DroneEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, config: SimConfig = SimConfig()):
        super().__init__()
        self.config = config
        self.airframe = get_airframe(config.airframe)
        self.client = p.connect(p.DIRECT)
        self.world = World(self.client)
        self.camera = FPVCamera(self.client, CameraConfig(size=config.image_size))
        self._cameras: dict[tuple, FPVCamera] = {}
        self._lens_seed, self._lens_rngs, self._lens_cache = (0, 0x1E45), {}, {}
        self.controller = VelocityController(self.airframe, dt=1.0 / config.physics_hz)
        self.quad: Quadrotor | None = None
        self.setup: EpisodeSetup | None = None
        self.instruction = ""
        self.t = 0.0
        self.state: DroneState | None = None
        a = self.airframe
        lim = np.array([a.max_vxy, a.max_vxy, a.max_vz, a.max_yaw_rate], dtype=np.float32)
        self.action_space = spaces.Box(-lim, lim, dtype=np.float32)
        s = config.image_size
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (s, s, 3), dtype=np.uint8),
            "state": spaces.Box(-np.inf, np.inf, (12,), dtype=np.float32),
            "instruction": spaces.Text(max_length=1024, charset=string.printable),
        })

    # -- gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        rng = self.np_random
        cfg = self.config
        looks = options.get("gates") or self._random_looks(rng)
        look = options.get("look") or Look()
        if not isinstance(look, Look):
            raise TypeError(f"options['look'] must be a Look, got {type(look).__name__}")
        self.instruction = options.get("instruction", "")
        poses = jitter_layout(reference_layout(), rng, cfg.gate_jitter_m, cfg.gate_jitter_yaw_rad)
        x0, y0, z0 = NOMINAL_START
        start = (
            x0 + rng.uniform(-cfg.start_noise_xy_m, cfg.start_noise_xy_m),
            y0 + rng.uniform(-cfg.start_noise_xy_m, cfg.start_noise_xy_m),
            z0 + rng.uniform(-cfg.start_noise_z_m, cfg.start_noise_z_m),
        )
        yaw = rng.uniform(-cfg.start_noise_yaw_rad, cfg.start_noise_yaw_rad)
        if cfg.randomize_lighting and look.light.direction is None:
            az = rng.uniform(-math.pi, math.pi)
            light = (math.cos(az), math.sin(az), rng.uniform(1.0, 2.5))
            floor = tuple(float(v) for v in rng.uniform(0.4, 0.65, size=3)) + (1.0,)
        else:
            light, floor = look.light.direction or (0.4, 0.3, 1.0), (0.55, 0.55, 0.5, 1.0)
        self.setup = EpisodeSetup(start, yaw, light, list(looks), look)
        self.camera = self._camera(cfg.image_size)
        self._lens_seed, self._lens_rngs, self._lens_cache = (int(seed or 0) % 2**63, 0x1E45), {}, {}

        c = self.client
        p.resetSimulation(physicsClientId=c)
        p.setGravity(0, 0, -self.airframe.g, physicsClientId=c)
        p.setTimeStep(1.0 / cfg.physics_hz, physicsClientId=c)
        self.world.build(poses, list(looks), floor_rgba=floor, look=look,
                         distractor_pictures=tuple(options.get("distractor_pictures", ())))
        self.quad = Quadrotor(c, self.airframe, position=start, yaw=yaw)
        self.state = self.quad.state()
        self.controller.reset(self.state)
        self.t = 0.0
        self._prev_pos = tuple(self.state.pos)
        return self._observation(), self._info(None)

    def step(self, action):
        cmd = action if isinstance(action, VelocityCommand) else VelocityCommand.from_array(action)
        if not cmd.is_finite():
            cmd = VelocityCommand.hover()  # never feed NaN into the physics
        cfg = self.config
        c = self.client
        event = None
        info_extra: dict = {}
        for _ in range(cfg.substeps):
            rpm = self.controller.compute(self.state, cmd)
            self.quad.apply_rpm(rpm)
            p.stepSimulation(physicsClientId=c)
            self.t += 1.0 / cfg.physics_hz
            self.state = self.quad.state()
            event, info_extra = self._check_events()
            if event is not None:
                break
        terminated = event is not None
        truncated = not terminated and self.t >= cfg.time_limit_s - 1e-9
        info = self._info(event)
        info.update(info_extra)
        return self._observation(), 0.0, terminated, truncated, info

    def close(self):
        if self.client is not None and p.isConnected(self.client):
            p.disconnect(self.client)
        self.client = None

    def render(self):
        return self.render_fpv()

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def look(self) -> Look:
        return self.setup.look if self.setup is not None else Look()

    @property
    def camera_config(self) -> CameraConfig:
        """The model-input camera of this episode's look (for projecting points into its frames)."""
        cam = self.look.camera
        return CameraConfig(size=self.config.image_size, fov_deg=cam.fov_deg, pitch_deg=cam.pitch_deg)

    def _camera(self, size: int) -> FPVCamera:
        """The look's camera rendering at `size` px (its render size for the model's input)."""
        cam = self.look.camera
        key = (size, cam.fov_deg, cam.pitch_deg)
        if key not in self._cameras:
            self._cameras[key] = FPVCamera(self.client, CameraConfig(size=size, fov_deg=cam.fov_deg, pitch_deg=cam.pitch_deg))
        return self._cameras[key]

    def render_at(self, pos, quat, size: int | None = None) -> np.ndarray:
        """What this episode's camera shows from a body at `pos` with orientation `quat`, as
        delivered at `size` px (default: the model's input size): rendered at the look's render
        size, then through its lens (blur, exposure, noise, JPEG...)."""
        look = self.look
        out = size or self.config.image_size
        render = out if size is not None else (look.camera.render_size or out)
        sky = None if look.is_classic else (look.scene.sky_top, look.scene.sky_horizon)
        light = None if look.is_classic else look.light
        image = self._camera(render).render(pos, quat, self.setup.light_direction, light=light, sky=sky)
        lens = self._lens(out, render, size is not None)
        if lens.is_identity:
            return image
        # One noise stream per output size: the policy's frames do not depend on whether a reasoner looks.
        if out not in self._lens_rngs:
            self._lens_rngs[out] = np.random.default_rng([*self._lens_seed, out])
        rng = self._lens_rngs[out]
        return apply_lens(image, lens, rng)

    def _lens(self, out: int, render: int, other_camera: bool):
        """The look's lens for this output (built once per episode and size, not per frame)."""
        key = (out, render, other_camera)
        lens = self._lens_cache.get(key)
        if lens is None:
            lens = self.look.camera.lens
            if other_camera and not lens.is_identity:  # a sharper camera: blur in its own pixels
                k = out / self.config.image_size
                lens = replace(lens, defocus_px=min(lens.defocus_px * k, 16.0), motion_blur_px=min(lens.motion_blur_px * k, 64.0))
            if render != out:
                lens = replace(lens, out_size=out)
            self._lens_cache[key] = lens
        return lens

    def render_fpv(self, size: int | None = None) -> np.ndarray:
        """The first-person view now; `size` renders it at another resolution (a second,
        sharper camera on the same mount, as a reasoner might use)."""
        return self.render_at(self.state.pos, self.state.quat, None if size == self.config.image_size else size)

    def _observation(self) -> dict:
        s = self.state
        state = np.concatenate([s.pos, s.rpy, s.vel, s.ang_vel]).astype(np.float32)
        if self.config.render_images:
            image = self.render_fpv()
        else:
            image = np.zeros((self.config.image_size,) * 2 + (3,), dtype=np.uint8)
        return {"image": image, "state": state, "instruction": self.instruction}

    def _info(self, event) -> dict:
        return {"time_s": self.t, "event": event, "position": tuple(float(v) for v in self.state.pos)}

    def _check_events(self) -> tuple[str | None, dict]:
        pos = tuple(float(v) for v in self.state.pos)
        prev, self._prev_pos = self._prev_pos, pos
        for gate in self.world.gates:
            crossed = gate.crossing(prev, pos)
            if crossed:
                return "gate", {"gate_index": gate.index}
        contacts = p.getContactPoints(bodyA=self.quad.body_id, physicsClientId=self.client)
        if contacts:
            return "collision", {"hit": self.world.body_name(contacts[0][2])}
        lim2 = self.config.out_of_bounds_m ** 2
        if all((pos[0] - g.pose.x) ** 2 + (pos[1] - g.pose.y) ** 2 + (pos[2] - g.pose.z) ** 2 > lim2
               for g in self.world.gates):
            return "out_of_bounds", {}
        return None, {}

    @staticmethod
    def _random_looks(rng: np.random.Generator) -> list[GateAppearance]:
        shapes = list(rng.permutation(list(GATE_SHAPES)))
        colors = list(rng.permutation(list(GATE_COLORS)))
        return [GateAppearance(str(s), str(rng.choice(list(GATE_SIZES))), str(c)) for s, c in zip(shapes, colors)]
