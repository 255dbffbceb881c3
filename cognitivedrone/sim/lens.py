"""A camera's look: turn a clean rendered RGB frame into what a real camera would deliver.

Every effect is a field of :class:`LensParams` (plain, JSON-able; the defaults do nothing), and
:func:`apply_lens` runs them in a camera's order:

1. resize to ``out_size``: the sensor samples the optical image. A shrink averages the render over
   each sensor pixel (area/box filter: a pixel integrates the light on it, and a 2x checkerboard
   becomes flat grey instead of aliasing); an enlargement interpolates bilinearly (a box would
   make blocks). It comes first, before the tone curve, because a pixel averages light, not
   gamma-encoded values; so every "_px" field is in output pixels and the rest costs what the
   output size costs.
2. optics on the render's values (taken as linear-ish light): motion blur (a line at any angle),
   then defocus (a Gaussian), edges replicated. Both are convolutions, so running them after the
   box sampling instead of before changes only sub-pixel detail.
3. exposure x white balance x vignette (one gain per pixel and channel), the clip at full scale
   (saturation after the gain, as on a sensor), then gamma.
4. sensor noise at the output scale (after the resize, which would otherwise average it away):
   variance ``noise_std**2 + noise_shot * I``, I the 0..255 value it lands on.
5. JPEG last, as a camera sends it (Pillow).

Speed: the filters run in 16-bit fixed point (weights sum to 256) on one flat edge-padded buffer,
so each tap is one contiguous add. Gain, clip, gamma and noise are one multiply and one table
lookup indexed by the gained value's 12-bit level and, with noise, a random byte that picks one
of 256 Gaussian quantiles (tails cut at 2.9 sigma). A level past full scale reads the table's
last entry: a saturated pixel stays 255, without noise, as on a sensor. What depends only on
(params, size) is built once and cached.

Why not an augmentation library (albumentations, imgaug, kornia): these effects are part of a
look, drawn from its seed and recorded in datasets and results, so each must be reproducible
from plain parameters and cost well under a millisecond at 128 px on one core; the libraries
bring OpenCV or torch and their own random state, and their transforms are not the camera's
order above.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral, Real
from statistics import NormalDist

import numpy as np
from PIL import Image

# field: (low, high, low end open); out_size and jpeg_quality are integers or None
_RANGES = {"out_size": (8, 4096, False), "exposure": (0.0, 16.0, True), "gamma": (0.2, 5.0, False),
           "white_balance": (0.0, 4.0, True), "vignette": (0.0, 1.0, False), "defocus_px": (0.0, 16.0, False),
           "motion_blur_px": (0.0, 64.0, False), "motion_angle_deg": (-360.0, 360.0, False),
           "noise_std": (0.0, 64.0, False), "noise_shot": (0.0, 16.0, False), "jpeg_quality": (5, 100, False)}
_TOP = 4095  # tone levels 0.._TOP span 0..255
_QUANTILES = np.array([NormalDist().inv_cdf((k + 0.5) / 256) for k in range(256)], np.float32)
_QUANTILES /= _QUANTILES.std()  # 256 equally likely values, variance exactly 1


@dataclass(frozen=True)
class LensParams:
    out_size: int | None = None  # final square size; None keeps the input's size
    exposure: float = 1.0  # linear gain
    gamma: float = 1.0  # out = in ** (1 / gamma) on [0, 1]
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)  # R, G, B gains
    vignette: float = 0.0  # corner darkening fraction: gain 1 - vignette * (r / r_corner) ** 2
    defocus_px: float = 0.0  # Gaussian blur sigma, output px
    motion_blur_px: float = 0.0  # length of a linear motion blur, output px
    motion_angle_deg: float = 0.0  # its direction: 0 horizontal, 90 vertical (counter-clockwise on screen)
    noise_std: float = 0.0  # Gaussian sensor noise, 0..255 units
    noise_shot: float = 0.0  # signal-dependent noise: variance noise_shot * value (0..255)
    jpeg_quality: int | None = None  # None = no compression

    def __post_init__(self):  # kept cheap: callers may build one per frame (dataclasses.replace)
        for name, (lo, hi, lo_open) in _RANGES.items():
            v = getattr(self, name)
            if name in ("out_size", "jpeg_quality"):
                if v is not None and (isinstance(v, bool) or not isinstance(v, Integral) or not lo <= v <= hi):
                    raise _range_error(name, v, "None or an integer")
                coerced = v if v is None else int(v)
            elif name == "white_balance":
                coerced = tuple(v) if isinstance(v, (tuple, list, np.ndarray)) else ()
                if len(coerced) != 3 or not all(_number_in(c, lo, hi, lo_open) for c in coerced):
                    raise _range_error(name, v, "3 finite numbers")
                coerced = tuple(float(c) for c in coerced)
            elif _number_in(v, lo, hi, lo_open):
                coerced = float(v)
            else:
                raise _range_error(name, v, "finite and")
            if type(coerced) is not type(v) or name == "white_balance":
                object.__setattr__(self, name, coerced)

    @property
    def is_identity(self) -> bool:
        """True when apply_lens returns its input unchanged (the angle alone does nothing)."""
        return all(getattr(self, n) == getattr(_NEUTRAL, n) for n in _RANGES if n != "motion_angle_deg")

    def to_dict(self) -> dict:
        d = {name: getattr(self, name) for name in _RANGES}
        d["white_balance"] = list(self.white_balance)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> LensParams:
        unknown = sorted(set(d) - set(_RANGES))
        if unknown:
            raise ValueError(f"LensParams: unknown field(s) {', '.join(map(str, unknown))}")
        return cls(**d)


def _number_in(v, lo, hi, lo_open) -> bool:
    if type(v) not in (float, int) and (isinstance(v, bool) or not isinstance(v, Real)):
        return False
    return math.isfinite(v) and (lo < v if lo_open else lo <= v) and v <= hi


def _range_error(name, value, what) -> ValueError:
    lo, hi, lo_open = _RANGES[name]
    return ValueError(f"LensParams.{name} must be {what} in {'(' if lo_open else '['}{lo}, {hi}], got {value!r}")


_NEUTRAL = LensParams()


def apply_lens(image: np.ndarray, params: LensParams, rng: np.random.Generator | None = None) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (H, W, 3), or (out_size, out_size, 3). Identity params (or only an
    out_size equal to the input's) return `image` itself, else a new writable array. `rng` (a
    numpy Generator, whose stream the noise consumes) is needed only when noise is on."""
    x = np.asarray(image)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"apply_lens wants a uint8 (H, W, 3) image, got {x.dtype} {x.shape}")
    h, w = x.shape[:2]
    if params.out_size is not None and h != w:
        raise ValueError(f"out_size resizes to a square; the image is {h}x{w}")
    plan = _plan(params, h, w)
    if plan is None:
        return image
    if plan.noise and not isinstance(rng, np.random.Generator):
        raise ValueError("apply_lens: noise_std/noise_shot > 0 needs rng=np.random.Generator")
    if plan.size != (h, w):
        x = _resize(x, *plan.size)
    if plan.filters:
        x = _filter(x, plan)
    if plan.table is not None:  # gain, clip, gamma (and noise): one lookup by level (and random byte)
        x = np.multiply(x, plan.gain, out=np.empty(x.shape, np.int32), dtype=np.float32, casting="unsafe")
        if plan.noise:
            x <<= 8
            x |= rng.bit_generator.random_raw(-(-x.size // 8)).view(np.uint8)[:x.size].reshape(x.shape)
        x = np.take(plan.table, x, mode="clip")  # x >= 0; past the top: the last entry, 255
    elif x.dtype != np.uint8:
        x = x.astype(np.uint8)
    if plan.jpeg is not None:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(x)).save(buf, format="JPEG", quality=plan.jpeg)
        x = np.asarray(Image.frombytes("RGB", (x.shape[1], x.shape[0]), buf.getvalue(), "jpeg", "RGB", ""))
    return x if x.flags.writeable else x.copy()  # Pillow's arrays are read-only


def _resize(x, oh, ow):
    im, h = Image.fromarray(x), x.shape[0]
    if oh > h:
        return np.asarray(im.resize((ow, oh), Image.Resampling.BILINEAR))
    k = h // oh  # reduce() is the same box filter, faster, for a whole factor
    return np.asarray(im.reduce(k) if k * oh == h else im.resize((ow, oh), Image.Resampling.BOX))


def _filter(x, plan):
    """The fixed-point filters on an edge-padded copy of x; returns a uint16 view, values 0..255."""
    (h, w), (py, px) = x.shape[:2], plan.pad
    pad = np.empty((h + 2 * py, w + 2 * px, 3), np.uint16)
    pad[py:py + h, px:px + w] = x
    pad[:py, px:px + w], pad[py + h:, px:px + w] = x[:1], x[-1:]
    pad[:, :px], pad[:, px + w:] = pad[:, px:px + 1], pad[:, px + w - 1:px + w]
    src, dst, tmp = pad.reshape(-1), np.empty(pad.size, np.uint16), np.empty(pad.size, np.uint16)
    lo, hi = 0, src.size
    for centre, pairs, reach in plan.filters:  # flat offsets are right wherever no tap crosses a row end
        lo, hi = lo + reach, hi - reach  # ... which the padding guarantees inside the image
        d, t = dst[lo:hi], tmp[lo:hi]
        np.multiply(src[lo:hi], centre, out=d)
        for off, wt in pairs:  # point-symmetric taps: (x[+off] + x[-off]) * wt
            np.add(src[lo + off:hi + off], src[lo - off:hi - off], out=t)
            t *= wt
            d += t
        d += 128
        d >>= 8
        src, dst = dst, src
    return src.reshape(pad.shape)[py:py + h, px:px + w]


@dataclass(frozen=True)
class _Plan:
    size: tuple[int, int]
    pad: tuple[int, int]
    filters: tuple  # per pass: (centre weight, ((flat offset, weight), ...), reach); weights sum to 256
    gain: np.ndarray | None  # float32 (H, W, 3): exposure x white balance x vignette x _TOP / 255
    table: np.ndarray | None  # uint8 [level] -> gamma'd value, or [level << 8 | byte] -> noisy gamma'd value
    noise: bool
    jpeg: int | None


@lru_cache(maxsize=16)
def _plan(p: LensParams, h: int, w: int) -> _Plan | None:
    oh, ow = (p.out_size, p.out_size) if p.out_size else (h, w)
    kernels = [_motion(p.motion_blur_px, p.motion_angle_deg)] if p.motion_blur_px > 0 else []
    if p.defocus_px > 0:  # separable: a vertical and a horizontal pass
        c, pairs = _quantise(_gauss(p.defocus_px))
        kernels += [(c, tuple((k, 0, wt) for k, wt in pairs)), (c, tuple((0, k, wt) for k, wt in pairs))]
    kernels = [k for k in kernels if k[1]]  # a blur too small to move a 1/256 weight is none
    py = sum(max(abs(dy) for dy, _, _ in taps) for _, taps in kernels)
    px = sum(max(abs(dx) for _, dx, _ in taps) for _, taps in kernels)
    filters = []
    for c, taps in kernels:
        offs = tuple(((dy * (ow + 2 * px) + dx) * 3, wt) for dy, dx, wt in taps)
        filters.append((c, offs, max(o for o, _ in offs)))
    gains = np.float32(p.exposure * _TOP / 255) * np.asarray(p.white_balance, np.float32)
    noise = p.noise_std > 0 or p.noise_shot > 0
    gain = table = None
    if p.gamma != 1.0 or noise or p.vignette > 0 or p.exposure != 1.0 or p.white_balance != (1.0, 1.0, 1.0):
        level = np.minimum((np.arange(_TOP + 1) + 0.5) / _TOP, 1.0)  # level i stands for [i, i + 1):
        level[0] = 0.0  # its centre's value (0 for 0)
        table = (255.0 * level ** (1.0 / p.gamma)).astype(np.float32)
        if noise:
            noisy = np.sqrt(np.float32(p.noise_std ** 2) + np.float32(p.noise_shot) * table)[:, None] * _QUANTILES
            noisy += table[:, None]
            table = noisy
        table = np.clip(np.rint(table, out=table), np.float32(0), np.float32(255), out=table).astype(np.uint8).ravel()
        yy, xx = np.mgrid[:oh, :ow].astype(np.float32)
        r2 = ((yy + 0.5 - oh / 2) ** 2 + (xx + 0.5 - ow / 2) ** 2) / ((oh / 2) ** 2 + (ow / 2) ** 2)
        gain = (1.0 - np.float32(p.vignette) * r2)[..., None] * gains  # full size: a (3,) broadcast is slow
        table.flags.writeable = gain.flags.writeable = False
    if (oh, ow) == (h, w) and not filters and table is None and p.jpeg_quality is None:
        return None
    return _Plan((oh, ow), (py, px), tuple(filters), gain, table, noise, p.jpeg_quality)


def _gauss(sigma):
    """Pixel-integrated Gaussian cut near 2.5 sigma: weights for offsets 0..r, normalised over -r..r."""
    r = max(1, math.ceil(2.5 * sigma - 0.5))
    wts = np.diff([0.5 * math.erf((k + 0.5) / (sigma * math.sqrt(2))) for k in range(-1, r + 1)])
    return wts / (wts[0] + 2 * wts[1:].sum())


def _quantise(wts):
    """Weights of offsets 0..r -> (centre, ((k, weight), ...)) in 1/256 with centre + 2 * sum == 256;
    largest remainders round up, so the shape survives; zero pairs are dropped."""
    s = np.asarray(wts) * 256
    q = np.floor(s).astype(int)
    left = 256 - q[0] - 2 * q[1:].sum()
    up = np.argsort(q[1:] - s[1:], kind="stable")[: left // 2] + 1
    q[up] += 1
    q[0] += left - 2 * len(up)
    return int(q[0]), tuple((k, int(q[k])) for k in range(1, len(q)) if q[k] > 0)


def _motion(length, angle_deg):
    """The image averaged over shifts along a `length` px line (4 bilinear samples per px), as
    (centre, ((dy, dx, weight), ...)) with one tap of each point-symmetric pair."""
    th = math.radians(angle_deg)
    t = np.linspace(-length / 2, length / 2, max(2, math.ceil(4 * length) + 1))
    xs, ys = t * round(math.cos(th), 9), t * round(-math.sin(th), 9)
    r = math.ceil(length / 2) + 1
    k = np.zeros((2 * r + 1, 2 * r + 1))
    x0, y0 = np.floor(xs), np.floor(ys)
    fx, fy = xs - x0, ys - y0
    x0, y0 = x0.astype(int) + r, y0.astype(int) + r
    for dy, dx, wt in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(k, (y0 + dy, x0 + dx), wt)
    k = (k + k[::-1, ::-1]) / (2 * k.sum())  # exactly symmetric
    half = [(dy, dx) for dy in range(r + 1) for dx in range(-r, r + 1) if (dy or dx > 0) and k[r + dy, r + dx] > 0]
    c, pairs = _quantise([k[r, r]] + [k[r + dy, r + dx] for dy, dx in half])
    return c, tuple((*half[j - 1], wt) for j, wt in pairs)
