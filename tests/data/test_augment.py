"""Augmentation presets move image and mask together and never invent mask classes."""

import pytest
import torch

from oocyteseg.data.augment import JointAugment, build_augment, parse_preset
from oocyteseg.data.dataset import IMAGE_MEAN, IMAGE_STD

torch.set_num_threads(1)


def _pair(h=24, w=24):
    """A mask with a distinct label per quadrant, and an image whose red channel encodes the mask."""
    mask = torch.zeros(h, w, dtype=torch.long)
    mask[: h // 2, w // 2:] = 1
    mask[h // 2:, : w // 2] = 2
    mask[h // 2:, w // 2:] = 3
    img01 = torch.stack([mask.float() / 3, torch.full((h, w), 0.5), torch.full((h, w), 0.5)])
    mean, std = torch.tensor(IMAGE_MEAN).view(3, 1, 1), torch.tensor(IMAGE_STD).view(3, 1, 1)
    return (img01 - mean) / std, mask


def _red01(image):
    return image[0] * IMAGE_STD[0] + IMAGE_MEAN[0]


@pytest.mark.parametrize("h,w", [(24, 24), (24, 32)])
def test_andreini_moves_image_and_mask_together(h, w):
    torch.manual_seed(0)
    aug = JointAugment("andreini")
    image, mask = _pair(h, w)
    for _ in range(12):
        x, y = aug(image, mask)
        assert x.shape == image.shape and y.shape == mask.shape  # non-square inputs keep their shape
        assert torch.allclose(_red01(x) * 3, y.float(), atol=1e-4)


def test_photometric_changes_the_image_only():
    torch.manual_seed(1)
    aug = JointAugment("photometric")
    image, mask = _pair()
    changed = 0
    for _ in range(10):
        x, y = aug(image, mask)
        assert torch.equal(y, mask)
        changed += not torch.allclose(x, image)
    assert changed > 0


def test_geometric_keeps_mask_labels_nearest():
    torch.manual_seed(2)
    aug = JointAugment("geometric+andreini+photometric")
    image, mask = _pair(32, 40)
    for _ in range(10):
        x, y = aug(image, mask)
        assert y.dtype == torch.long and set(y.unique().tolist()) <= {0, 1, 2, 3}
        assert x.dtype == torch.float32 and x.shape == image.shape


def test_presets_parse_and_fail_clearly():
    assert parse_preset("andreini+photometric") == ["andreini", "photometric"]
    assert build_augment("none") is None
    with pytest.raises(KeyError, match="valid: none, andreini"):
        parse_preset("andreini+sparkles")
