"""Augmentation presets move image and mask together and never invent mask classes."""

import pytest
import torch

from oocyteseg.data.augment import JointAugment, build_augment, parse_preset

torch.set_num_threads(1)


def _pair(h=24, w=24):
    """A mask with a distinct label per quadrant, and an image whose red channel encodes the mask."""
    mask = torch.zeros(h, w, dtype=torch.long)
    mask[: h // 2, w // 2:] = 1
    mask[h // 2:, : w // 2] = 2
    mask[h // 2:, w // 2:] = 3
    img01 = torch.stack([mask.float() / 3, torch.full((h, w), 1.0), torch.full((h, w), 0.5)])
    return img01, mask


def _red01(image):
    return image[0]


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


def test_geometric_warps_image_and_mask_together():
    """A known image (red channel = label / 3, green = 1 inside) under random affines: wherever the warped
    image is an interior pixel (not blended with the fill, not on a label edge) its red channel still says
    the warped mask's label, and the padding the warp brings in is background in the mask."""
    torch.manual_seed(3)
    aug = JointAugment("geometric+flips")
    h, w = 64, 80
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    mask = ((yy // 16) % 2 * 2 + (xx // 20) % 2).long()  # a 4 x 4 checkerboard of labels 0..3
    image = torch.stack([mask.float() / 3, torch.ones(h, w), torch.full((h, w), 0.5)])
    moved = 0
    for _ in range(10):
        x, y = aug(image, mask)
        assert x.shape == image.shape and y.shape == mask.shape and y.dtype == torch.long
        moved += not torch.equal(y, mask)
        inside = x[1] > 0.999
        edge = torch.nn.functional.max_pool2d(y[None, None].float(), 3, 1, 1)[0, 0] != \
            -torch.nn.functional.max_pool2d(-y[None, None].float(), 3, 1, 1)[0, 0]
        check = inside & ~edge
        assert check.sum() > 0.5 * h * w
        assert torch.allclose(x[0][check] * 3, y[check].float(), atol=0.02)
        padded = x[1] < 0.5001  # pure fill (bilinear blends at the edge are left out)
        assert (y[padded] == 0).all()
    assert moved >= 8  # the transform really warps


@pytest.mark.parametrize("mean,std", [(None, None), ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
def test_normalisation_after_augmentation_is_unchanged(mean, std):
    """v2.Normalize (InputSpec.normalize_tensor) gives bit for bit what the hand-written (x - mean) / std gave,
    and matches the lookup-table path of images that are not augmented."""
    import numpy as np

    from oocyteseg.data.preprocess import InputSpec, image_to_uint8_tensor01

    spec = InputSpec() if mean is None else InputSpec(mean=mean, std=std)
    image = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    x01 = image_to_uint8_tensor01(image)
    before = (x01 - torch.tensor(spec.mean).view(3, 1, 1)) / torch.tensor(spec.std).view(3, 1, 1)
    assert torch.equal(spec.normalize_tensor(x01), before)
    torch.testing.assert_close(spec.normalize_tensor(x01), spec.tensor(image), rtol=0, atol=1e-6)


def test_augmented_and_plain_training_inputs_agree(tmp_path):
    """The dataset feeds the augmentation [0, 1] images and normalises its output: with a transform that
    changes nothing, the training input equals the one without augmentation."""
    import numpy as np
    import pandas as pd

    from oocyteseg.data.dataset import SegmentationDataset
    from oocyteseg.data.preprocess import InputSpec
    from oocyteseg.io.images import write_image, write_mask

    rng = np.random.default_rng(1)
    write_image(tmp_path / "i.png", rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))
    write_mask(tmp_path / "m.png", rng.integers(0, 3, (32, 48), dtype=np.uint8))
    rows = pd.DataFrame([{"image_path": str(tmp_path / "i.png"), "mask_path": str(tmp_path / "m.png"), "case": "c"}])
    spec = InputSpec(size=(24, 32))
    plain = SegmentationDataset(rows, spec)[0]
    seen = []

    def identity(image01, mask):
        seen.append((float(image01.min()), float(image01.max())))
        return image01, mask

    augmented = SegmentationDataset(rows, spec, transform=identity)[0]
    assert 0.0 <= seen[0][0] and seen[0][1] <= 1.0  # the augmentation sees [0, 1] values
    torch.testing.assert_close(augmented["image"], plain["image"], rtol=0, atol=1e-6)
    assert torch.equal(augmented["mask"], plain["mask"])
