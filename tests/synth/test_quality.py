"""The GAN quality measures: the period-2 checkerboard share and the spots' region from the training masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oocyteseg.errors import OocytesegError
from oocyteseg.synth import UNetGenerator, one_hot
from oocyteseg.synth.grids import to_uint8
from oocyteseg.synth.labelmaps import InclusionSamplerConfig, sample_inclusion_map
from oocyteseg.synth.quality import checkerboard_energy, spot_region


def _smooth(h: int = 64, w: int = 80) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return (100 + 60 * np.sin(xx / 9.0) + 40 * np.cos(yy / 13.0)).astype(np.uint8)


def test_checkerboard_share_separates_a_period_two_pattern_from_a_smooth_image() -> None:
    smooth = _smooth()
    board = (np.indices(smooth.shape).sum(0) % 2 * 40).astype(np.int16)
    rows = (np.indices(smooth.shape)[0] % 2 * 40).astype(np.int16)
    assert checkerboard_energy([smooth]) < 1e-3
    assert checkerboard_energy([board]) > 0.99  # all its non-mean power is at (H/2, W/2)
    assert checkerboard_energy([rows]) > 0.99  # and at (H/2, 0)
    mixed = checkerboard_energy([np.clip(smooth + board // 4, 0, 255)])
    assert 1e-3 < mixed < 0.99
    # colour images, and one image's artefact diluted by a clean one
    rgb = np.repeat(smooth[..., None], 3, axis=2)
    assert checkerboard_energy([rgb, rgb]) == pytest.approx(checkerboard_energy([smooth]))
    assert checkerboard_energy([smooth + board, smooth]) < checkerboard_energy([smooth + board])


def test_checkerboard_share_refuses_no_images_and_mixed_sizes() -> None:
    with pytest.raises(OocytesegError, match="no images"):
        checkerboard_energy([])
    with pytest.raises(OocytesegError, match="differ in size"):
        checkerboard_energy([_smooth(), _smooth(32, 32)])


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_resize_upsampling_paints_no_checkerboard(upsample: str) -> None:
    """An untrained generator on a flat label map: the transposed convolutions paint a period-2 pattern
    over the flat area, nearest 2x + 3x3 conv does not (Odena et al.); both keep the shape and range."""
    torch.manual_seed(0)
    gen = UNetGenerator(2, base_width=8, depth=4, max_width=32, upsample=upsample)
    mask = torch.zeros(2, 96, 128, dtype=torch.long)
    mask[:, 40:44, 60:64] = 1
    with torch.no_grad():
        out = gen(one_hot(mask, 2))
    assert out.shape == (2, 3, 96, 128) and out.min() >= -1 and out.max() <= 1
    has_transposed = any(isinstance(m, torch.nn.ConvTranspose2d) for m in gen.modules())
    assert has_transposed == (upsample == "transpose")
    share = checkerboard_energy(list(to_uint8(out)))
    if upsample == "transpose":
        assert share > 0.05
    else:
        assert share < 0.01


def test_unknown_upsampling_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="transpose, resize"):
        UNetGenerator(2, upsample="bilinear")


def test_spot_region_is_the_hull_of_the_training_spots_plus_a_margin() -> None:
    a = np.zeros((64, 64), np.uint8)
    b = np.zeros((64, 64), np.uint8)
    a[20:23, 20:23] = 1  # spots at three corners of a square: the hull is the triangle through them
    a[20:23, 40:43] = 1
    b[40:43, 20:23] = 1
    region = spot_region([a, b], margin_px=0)
    assert region[(a | b) > 0].all()  # every training spot is inside
    assert region[30, 25] == 1  # inside the triangle, between the spots
    assert region[41, 41] == 0  # the fourth corner of the square is outside the triangle
    assert region[5, 5] == 0 and region[60, 60] == 0
    wider = spot_region([a, b], margin_px=4)
    assert wider[region > 0].all() and wider[18, 21] == 1 and region[18, 21] == 0
    # sampled label maps then keep their spots inside it
    cfg = InclusionSamplerConfig(height=64, width=64, spots=(3, 3), diameter_px=(2, 3))
    for seed in range(5):
        spots = sample_inclusion_map(np.random.default_rng(seed), cfg, within=wider).mask
        assert spots.any() and not (spots.astype(bool) & (wider == 0)).any()


def test_spot_region_refuses_masks_without_spots_and_mixed_sizes() -> None:
    with pytest.raises(OocytesegError, match="too few"):
        spot_region([np.zeros((32, 32), np.uint8)])
    with pytest.raises(OocytesegError, match="differ in size"):
        spot_region([np.ones((32, 32), np.uint8), np.ones((16, 16), np.uint8)])
    with pytest.raises(OocytesegError, match="no masks"):
        spot_region([])


def test_noise_channels_vary_the_image_and_seeded_noise_repeats_it() -> None:
    """With a noise map beside the label map, two draws give two images of one map (texture material), the
    same noise gives the same image, and a noise map of the wrong shape is refused; without noise channels
    the generator is a function of the label map alone."""
    torch.manual_seed(0)
    mask = one_hot(torch.zeros(1, 32, 48, dtype=torch.long), 2)
    noisy = UNetGenerator(2, base_width=4, depth=3, max_width=8, upsample="resize", noise_channels=1).eval()
    assert noisy.down[0][0].in_channels == 3
    with torch.no_grad():
        a, b = noisy(mask), noisy(mask)
        fixed = torch.randn(1, 1, 32, 48)
        c, d = noisy(mask, fixed), noisy(mask, fixed.clone())
    assert (a - b).abs().max() > 1e-3
    assert torch.equal(c, d)
    with pytest.raises(ValueError, match="expected"):
        noisy(mask, torch.randn(1, 2, 32, 48))
    plain = UNetGenerator(2, base_width=4, depth=3, max_width=8, upsample="resize").eval()
    with torch.no_grad():
        assert torch.equal(plain(mask), plain(mask))


def test_map_noise_depends_on_the_map_index_not_the_batch() -> None:
    from oocyteseg.synth.generate import map_noise

    whole = map_noise(7, range(0, 4), 1, (16, 16))
    parts = torch.cat([map_noise(7, range(0, 3), 1, (16, 16)), map_noise(7, range(3, 4), 1, (16, 16))])
    assert whole.shape == (4, 1, 16, 16) and torch.equal(whole, parts)
    assert not torch.equal(map_noise(8, range(0, 4), 1, (16, 16)), whole)
    assert map_noise(7, range(0, 4), 0, (16, 16)) is None
