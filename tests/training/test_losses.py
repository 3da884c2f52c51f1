"""Losses: agree with torch's cross-entropy where they should; Dice is 0 for a perfect prediction."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oocyteseg.training.losses import create_loss, median_frequency_weights, parse_loss_name

torch.set_num_threads(1)


def _batch(seed=0, n=2, c=4, h=6, w=7):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, h, w, generator=g), torch.randint(0, c, (n, h, w), generator=g)


def test_ce_matches_torch_with_weights():
    logits, target = _batch()
    w = [0.5, 1.0, 2.0, 3.0]
    assert create_loss("ce", class_weights=w)(logits, target).item() == pytest.approx(
        F.cross_entropy(logits, target, weight=torch.tensor(w)).item(), rel=1e-6)


def test_focal_with_gamma_zero_is_cross_entropy():
    logits, target = _batch(1)
    w = [1.0, 2.0, 1.0, 0.5]
    assert create_loss("focal", focal_gamma=0.0, class_weights=w)(logits, target).item() == pytest.approx(
        F.cross_entropy(logits, target, weight=torch.tensor(w)).item(), rel=1e-5)
    assert create_loss("focal", focal_gamma=2.0)(logits, target) < create_loss("ce")(logits, target)


def test_dice_is_near_zero_for_a_perfect_prediction_and_high_for_a_wrong_one():
    _, target = _batch(2)
    perfect = F.one_hot(target, 4).permute(0, 3, 1, 2).float() * 100
    assert create_loss("dice", dice_smooth=1e-6)(perfect, target).item() == pytest.approx(0.0, abs=1e-5)
    wrong = F.one_hot((target + 1) % 4, 4).permute(0, 3, 1, 2).float() * 100
    assert create_loss("dice")(wrong, target).item() > 0.9


def test_combination_is_the_weighted_sum_and_backpropagates():
    logits, target = _batch(3)
    logits.requires_grad_(True)
    combo = create_loss("ce+dice", term_weights=[1.0, 0.5])(logits, target)
    expected = create_loss("ce")(logits, target) + 0.5 * create_loss("dice")(logits, target)
    assert combo.item() == pytest.approx(expected.item(), rel=1e-6)
    combo.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_unknown_loss_lists_valid_names():
    with pytest.raises(KeyError, match="valid: ce, dice, focal, lovasz"):
        parse_loss_name("ce+hausdorff")


def test_lovasz_is_zero_for_a_perfect_prediction_and_grows_with_boundary_errors():
    import torch

    from oocyteseg.training.losses import create_loss

    target = torch.zeros(1, 16, 16, dtype=torch.long)
    target[0, 6:10, 2:14] = 1  # a thin bar, like a needle
    perfect = torch.nn.functional.one_hot(target, 2).permute(0, 3, 1, 2).float() * 20 - 10
    loss = create_loss("lovasz")
    assert float(loss(perfect, target)) < 1e-6
    thin = perfect.clone()
    thin[0, :, 6, :] = thin[0, :, 6, :].flip(0)  # one edge row of the bar predicted as background
    thinner = thin.clone()
    thinner[0, :, 9, :] = thinner[0, :, 9, :].flip(0)
    assert 0 < float(loss(thin, target)) < float(loss(thinner, target))


def test_median_frequency_golden():
    a = np.zeros((10, 10), np.uint8)
    a[:2] = 1                           # image a: 80 bg, 20 class 1
    b = np.zeros((10, 10), np.uint8)
    b[0, :5] = 2                        # image b: 95 bg, 5 class 2
    w = median_frequency_weights([a, b], 4)
    # f0 = 175/200, f1 = 20/100, f2 = 5/100 ; class 3 absent -> weight 0; median of (0.875, 0.2, 0.05) = 0.2
    assert w == pytest.approx([0.2 / 0.875, 1.0, 4.0, 0.0])
    # a power weakens the balancing: square root at 0.5, every present class alike at 0; absent stays 0
    assert median_frequency_weights([a, b], 4, power=0.5) == pytest.approx([(0.2 / 0.875) ** 0.5, 1.0, 2.0, 0.0])
    assert median_frequency_weights([a, b], 4, power=0.0) == pytest.approx([1.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("seed,absent", [(0, None), (1, 3), (2, None)])
def test_lovasz_equals_smp_in_value_and_gradient(seed, absent):
    """"lovasz" is smp's LovaszLoss(multiclass, per_image=False) with a faster CPU sort: same value, same
    gradient (random logits: no ties), classes absent from the target left out of the mean alike."""
    from segmentation_models_pytorch.losses import LovaszLoss

    logits, target = _batch(seed, n=3, h=20, w=24)
    if absent is not None:
        target[target == absent] = 0
    ours_in = logits.clone().requires_grad_(True)
    smp_in = logits.clone().requires_grad_(True)
    ours = create_loss("lovasz")(ours_in, target)
    theirs = LovaszLoss(mode="multiclass", per_image=False)(smp_in, target)
    ours.backward()
    theirs.backward()
    assert float(ours) == pytest.approx(float(theirs), rel=1e-6, abs=1e-7)
    assert torch.allclose(ours_in.grad, smp_in.grad, rtol=1e-5, atol=1e-8)
    assert ours_in.grad.abs().sum() > 0
