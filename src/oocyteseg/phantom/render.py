"""Procedural renderer of ICSI frames with exact masks (the phantom).

The image is built the way a relief-contrast (Hoffman-like) microscope forms it: an absorption
layer (dark granular ooplasm, dark pipette lumen, translucent sERC) plus the directional derivative
of an optical-path layer (zona ring, oolemma, needle and pipette walls), which gives every edge one
bright and one dark flank. Uneven illumination, defocus blur, sensor noise and camera jitter follow.
The mask is computed from the same geometry, so it is exact: 0 background, 1 oocyte (ooplasm inside
the oolemma), 2 sERC, 3 needle (drawn on top: oocyte, then sERC, then needle). A case with a breakage mode
(issue #17) is drawn in the `icsi-injection` label set instead: the same plus 4 polar body (drawn over the
oocyte, under the sERC and the needle), its ooplasm texture and sERC displaced with the dent.

`anatomy_mask` gives the same frame in the `oocyte-anatomy` label set (0 background, 1 zona, 2 PVS,
3 ooplasm, 4 polar body), from the same geometry (`frame_geometry`), for the annotated stills only.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from oocyteseg.classes import ICSI, ICSI_INJECTION, OOCYTE_ANATOMY, LabelSet
from oocyteseg.phantom.geometry import frame_geometry, oolemma_radius, polar_body_disk
from oocyteseg.phantom.params import CaseParams

BACKGROUND, OOCYTE, SERC, NEEDLE = 0, 1, 2, 3
ZONA, PVS, OOPLASM, POLAR_BODY = (OOCYTE_ANATOMY.role(r) for r in ("zona", "pvs", "ooplasm", "polar_body"))
INJECTION_POLAR_BODY = ICSI_INJECTION.role("polar_body")


def video_labels(case: CaseParams) -> LabelSet:
    """The label set of the masks `render_frame` draws for `case`: ICSI, or ICSI plus the polar body for a
    case with a breakage mode."""
    return ICSI if case.response is None else ICSI_INJECTION


@lru_cache(maxsize=16)
def _texture(seed: int, height: int, width: int, sigma: float, pad: int) -> np.ndarray:
    """Zero-mean, unit-variance granular texture (band-passed noise), larger than the frame by pad."""
    rng = np.random.default_rng(seed + 7919)
    noise = rng.standard_normal((height + 2 * pad, width + 2 * pad)).astype(np.float32)
    fine = cv2.GaussianBlur(noise, (0, 0), sigma)
    coarse = cv2.GaussianBlur(noise, (0, 0), sigma * 4)
    tex = fine - 0.6 * coarse
    tex -= tex.mean()
    tex /= tex.std() + 1e-6
    return tex


def render_frame(case: CaseParams, u: float, *, duration_s: float = 4.0, frame_index: int = 0,
                 draw_needle: bool = True, noise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Render the frame at time fraction u in [0, 1]; returns (RGB uint8 HxWx3, mask uint8 HxW)."""
    h, w = case.height, case.width
    o, opt = case.oocyte, case.optics
    g = frame_geometry(case, u, duration_s=duration_s, frame_index=frame_index)
    xs, ys, cx, cy, rx, ry, rho = g.xs, g.ys, g.cx, g.cy, g.rx, g.ry, g.rho
    (jx, jy), state, tip, z_in = g.jitter, g.state, g.tip, g.z_in
    sd_ool = g.r_ool - rho  # ~ signed distance to the oolemma, positive inside
    ooplasm = sd_ool > 0
    soft_ool = np.clip(sd_ool + 0.5, 0, 1)
    z_t = np.clip((rho - z_in) / o.zona, 0, 1)
    zona_profile = np.where((rho > z_in) & (rho < z_in + o.zona), np.sin(np.pi * z_t).clip(0, 1) ** 0.6, 0.0).astype(np.float32)

    absorb = np.zeros((h, w), np.float32)
    phase = np.zeros((h, w), np.float32)
    pad = 8
    if g.src is None:
        tex = _texture(case.seed, h, w, o.grain_sigma, pad)[pad + jy: pad + jy + h, pad + jx: pad + jx + w]
    else:  # the ooplasm moves with the dent: sample the texture where each pixel's ooplasm sat
        tex = cv2.remap(_texture(case.seed, h, w, o.grain_sigma, pad), g.src[0] + np.float32(cx + pad + jx),
                        g.src[1] + np.float32(cy + pad + jy), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        rx, ry = g.src  # and so does the sERC, mask included
    dome = np.sqrt(np.clip(sd_ool / o.radius, 0, 1))
    # ooplasm: darker, granular, thicker in the middle
    grain = o.grain_contrast * tex
    serc_mask = np.zeros((h, w), bool)
    if case.serc is not None:
        s = case.serc
        ca, sa = math.cos(s.angle), math.sin(s.angle)
        ex, ey = rx - s.dx, ry - s.dy
        qx, qy = (ex * ca + ey * sa) / s.rx, (-ex * sa + ey * ca) / s.ry
        rn = np.sqrt(qx * qx + qy * qy)
        sd_serc = (1 - rn) * min(s.rx, s.ry)
        serc_mask = (sd_serc > 0) & ooplasm
        soft_serc = np.clip(sd_serc / 2.5 + 0.5, 0, 1) * soft_ool
        grain = grain * (1 - s.smoothness * soft_serc)
        absorb += s.brightness * soft_serc
        phase -= 6.0 * soft_serc * np.clip(sd_serc / 6.0, 0, 1)
    absorb += soft_ool * (-o.darkness * (0.65 + 0.35 * dome) + grain)
    phase += 28.0 * dome * soft_ool + 10.0 * zona_profile
    absorb += 0.06 * zona_profile
    disk = polar_body_disk(case, cx, cy)
    if disk is not None:
        px, py, rpb = disk
        d_pb = np.sqrt((xs - px) ** 2 + (ys - py) ** 2)
        pb = np.sqrt(np.clip(1 - (d_pb / rpb) ** 2, 0, 1))
        phase += 9.0 * pb
        absorb -= 0.06 * (pb > 0) + 0.03 * pb * tex

    if case.pipette is not None:
        p = case.pipette
        mouth = cx - float(oolemma_radius(case, math.pi)) - o.pvs - o.zona + 1.5
        v = np.abs(ys - (cy + p.dy))
        inside = (xs < mouth) & (v < p.half_width)
        wall = inside & (v > p.lumen)
        lumen = inside & (v <= p.lumen)
        edge = np.clip(mouth - xs, 0, 3) / 3
        phase += 24.0 * wall * np.sin(np.pi * np.clip((v - p.lumen) / (p.half_width - p.lumen), 0, 1)) * edge
        absorb -= 0.32 * lumen * edge - 0.05 * wall

    needle_mask = np.zeros((h, w), bool)
    if state is not None and draw_needle:
        n = case.needle
        dx_, dy_ = state.direction
        ux, uy = xs - tip[0], ys - tip[1]
        s_back = -(ux * dx_ + uy * dy_)  # distance behind the tip along the axis
        u_perp = np.abs(-ux * dy_ + uy * dx_)
        half = n.half_width * np.clip(s_back / n.taper, 0, 1) ** 0.75
        sd_n = np.minimum(half - u_perp, s_back)
        needle_mask = sd_n > 0
        soft_n = np.clip(sd_n + 0.5, 0, 1)
        wall_inner = half * (1 - n.wall)
        wall_t = np.clip((u_perp - wall_inner) / np.maximum(half - wall_inner, 1e-3), 0, 1)
        walls = np.where(u_perp > wall_inner, np.sin(np.pi * wall_t), 0.0) * soft_n
        # the thin glass near the tip is faint: what makes the real tip hard to see
        fade = np.clip(s_back / (n.taper * 0.8), 0.25, 1)
        phase += 16.0 * walls * fade
        absorb += (0.14 * walls - 0.07 * (u_perp <= wall_inner) * soft_n) * fade

    # relief contrast: directional derivative of the (slightly blurred) optical path
    phase = cv2.GaussianBlur(phase, (0, 0), 1.0)
    gx = cv2.Sobel(phase, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(phase, cv2.CV_32F, 0, 1, ksize=3) / 8
    relief = gx * math.cos(opt.relief_angle) + gy * math.sin(opt.relief_angle)
    nx, ny = xs / w - 0.5, ys / h - 0.5
    illum = 1 + opt.illum[0] * nx + opt.illum[1] * ny - opt.illum[2] * (nx * nx + ny * ny) * 2
    img = opt.background * illum * (1 + absorb) + opt.relief_gain * relief * opt.contrast
    img = opt.background + opt.contrast * (img - opt.background)
    if opt.blur > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), opt.blur)
    if noise:
        rng = np.random.default_rng((case.seed * 100003 + frame_index) % (2 ** 32))
        img = img + rng.normal(0, opt.noise, img.shape).astype(np.float32)
    rgb = np.clip(img[..., None] * np.asarray(opt.tint, np.float32), 0, 255).astype(np.uint8)

    mask = np.zeros((h, w), np.uint8)
    mask[ooplasm] = OOCYTE
    if disk is not None and case.response is not None:
        mask[(xs - px) ** 2 + (ys - py) ** 2 < rpb * rpb] = INJECTION_POLAR_BODY  # as in anatomy_mask
    mask[serc_mask] = SERC
    mask[needle_mask] = NEEDLE
    return rgb, mask


def anatomy_mask(case: CaseParams, u: float, *, duration_s: float = 4.0, frame_index: int = 0) -> np.ndarray:
    """Exact `oocyte-anatomy` mask (uint8 HxW) of the frame `render_frame` draws with the same arguments.

    Painted in this order, later on top: zona (the ring z_in < rho < z_in + zona, dented where the needle
    presses), PVS (inside the zona's inner edge), polar body (its whole disk, also where it bulges into
    the zona), ooplasm (inside the oolemma: exactly the ICSI mask's oocyte + sERC + the needle's part
    inside the oolemma). The needle and the holding pipette are not in this label set: under them each
    pixel gets the anatomy it covers, as an annotator outlining the anatomy would draw it.
    """
    g = frame_geometry(case, u, duration_s=duration_s, frame_index=frame_index)
    mask = np.zeros((case.height, case.width), np.uint8)
    mask[g.rho < g.z_in + case.oocyte.zona] = ZONA
    mask[g.rho <= g.z_in] = PVS
    disk = polar_body_disk(case, g.cx, g.cy)
    if disk is not None:
        px, py, rpb = disk
        mask[(g.xs - px) ** 2 + (g.ys - py) ** 2 < rpb * rpb] = POLAR_BODY
    mask[g.r_ool - g.rho > 0] = OOPLASM
    return mask
