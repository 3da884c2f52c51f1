"""Segmentation losses, registered by name: "ce", "dice", "focal", "lovasz" and "+"-combinations ("ce+dice").

Every loss maps (logits (N, C, H, W), target (N, H, W) int64) to a scalar. Class weights (for "ce"
and "focal") are explicit numbers or computed from the training masks by median-frequency balancing
(Eigen & Fergus 2015): w_c = median_f / f_c, with f_c = pixels of class c / pixels of the images
that contain class c.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from oocyteseg.errors import OocytesegError


def cross_entropy(weight: torch.Tensor | None = None, **_: object) -> nn.Module:
    """Pixel-wise cross-entropy with optional class weights (`nn.CrossEntropyLoss`).

    The weights are derived from the config and the data, so they are kept out of the state dict
    (checkpoints hold the same keys with and without class weights).
    """
    loss = nn.CrossEntropyLoss(weight=weight)
    loss.register_buffer("weight", weight, persistent=False)
    return loss


class SoftDice(nn.Module):
    """1 - mean over classes of the soft Dice of the softmax, pooled over the batch.

    A class absent from both target and prediction scores ~1 (smoothing), so it neither helps nor hurts.
    """

    def __init__(self, smooth: float = 1.0, **_: object):
        super().__init__()
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        probs = logits.float().softmax(1)
        onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
        dims = (0, 2, 3)
        inter = (probs * onehot).sum(dims)
        denom = probs.sum(dims) + onehot.sum(dims)
        return 1 - ((2 * inter + self.smooth) / (denom + self.smooth)).mean()


class Focal(nn.Module):
    """Softmax focal loss (Lin et al. 2017): cross-entropy scaled by (1 - p_t) ** gamma, optional class weights.

    `smp.losses.FocalLoss` is not used: in multiclass mode it sums one-vs-rest *sigmoid* focal losses and has
    no class weights, so gamma = 0 would not give the (weighted) cross-entropy.
    """

    def __init__(self, weight: torch.Tensor | None = None, gamma: float = 2.0, **_: object):
        super().__init__()
        self.gamma = gamma
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits.float(), target, reduction="none")  # -log p_t
        loss = (1 - torch.exp(-ce)) ** self.gamma * ce
        if self.weight is not None:
            w = self.weight[target]
            return (loss * w).sum() / w.sum().clamp_min(1e-12)
        return loss.mean()


class Combined(nn.Module):
    """Weighted sum of losses."""

    def __init__(self, terms: Sequence[nn.Module], weights: Sequence[float]):
        super().__init__()
        self.terms = nn.ModuleList(terms)
        self.weights = list(weights)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(w * t(logits, target) for w, t in zip(self.weights, self.terms))


class LovaszSoftmax(nn.Module):
    """Lovasz-softmax (Berman et al. 2018): a convex surrogate of the per-class IoU, whose gradient concentrates
    on the mis-labelled pixels at the boundary of thin classes; the mean over the classes present in the batch,
    all pixels of the batch together.

    The same loss as `smp.losses.LovaszLoss(mode="multiclass", per_image=False)` (`tests/training/
    test_losses.py` compares value and gradient), with one change: on a CPU the pixels' errors are ordered by
    NumPy's arg-sort (vectorised quicksort) instead of `torch.sort`, 4-5x faster on the 0.5 M pixels of a
    batch of 4 x 320 x 384, and the sorted errors' weights are scattered back to pixel order once instead
    of gathering the errors (whose backward pass is a slow scatter): 170 -> 70 ms per forward and
    backward pass there, where smp's took a fifth of a training step of the Shimotsu recipe. Equal
    errors may come out in another order, which leaves the loss unchanged (the Lovasz gradient summed over
    a run of equal errors does not depend on their order).
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        probas = logits.softmax(dim=1)
        channels = probas.shape[1]
        probas = probas.movedim(1, -1).reshape(-1, channels)
        labels = target.reshape(-1)
        losses = []
        for c in range(channels):
            fg = (labels == c).to(probas.dtype)
            if not bool(fg.any()):
                continue
            errors = (fg - probas[:, c]).abs()
            with torch.no_grad():
                order = _descending(errors)
                fg_sorted = fg[order]
                total = fg_sorted.sum()
                intersection = total - fg_sorted.cumsum(0)
                union = total + (1 - fg_sorted).cumsum(0)
                jaccard = 1.0 - intersection / union
                grad = torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])
                # the sorted errors' weights put back in pixel order: dot(errors, weights) equals smp's
                # dot(sorted errors, grad) without a gather (and its scatter in the backward pass)
                weights = torch.empty_like(grad).scatter_(0, order, grad)
            losses.append(torch.dot(errors, weights))
        return torch.stack(losses).mean() if losses else probas.sum() * 0.0


def _descending(values: torch.Tensor) -> torch.Tensor:
    """Indices that order a 1-D tensor from its largest value down."""
    if values.device.type == "cpu" and values.dtype == torch.float32:
        return torch.from_numpy(np.argsort(-values.numpy()))
    return torch.sort(values, descending=True).indices


def lovasz(**_: object) -> nn.Module:
    """Lovasz-softmax (`LovaszSoftmax`, smp's loss with a faster sort on a CPU)."""
    return LovaszSoftmax()


LOSSES: dict[str, Callable[..., nn.Module]] = {"ce": cross_entropy, "dice": SoftDice, "focal": Focal, "lovasz": lovasz}


def parse_loss_name(name: str) -> list[str]:
    """Split "ce+dice" into registered names; KeyError listing the valid ones on an unknown name."""
    parts = [p.strip().lower() for p in name.split("+") if p.strip()]
    bad = [p for p in parts if p not in LOSSES]
    if not parts or bad:
        raise KeyError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)} or combinations such as 'ce+dice'")
    return parts


def create_loss(name: str, *, class_weights: Sequence[float] | None = None, term_weights: Sequence[float] | None = None,
                focal_gamma: float = 2.0, dice_smooth: float = 1.0) -> nn.Module:
    """Build a loss by name.

    Args:
        name: "ce", "dice", "focal" or a "+"-combination such as "ce+dice".
        class_weights: one weight per class for "ce"/"focal" (Dice ignores them).
        term_weights: one weight per term of a combination (default 1 each).
        focal_gamma: focusing parameter of "focal".
        dice_smooth: smoothing added to the Dice numerator and denominator.
    """
    parts = parse_loss_name(name)
    weight = None if class_weights is None else torch.as_tensor(list(class_weights), dtype=torch.float32)
    terms = [LOSSES[p](weight=weight, gamma=focal_gamma, smooth=dice_smooth) for p in parts]
    if len(terms) == 1 and term_weights is None:
        return terms[0]
    weights = list(term_weights) if term_weights is not None else [1.0] * len(terms)
    if len(weights) != len(terms):
        raise OocytesegError(f"loss {name!r} has {len(terms)} terms but term_weights has {len(weights)} values",
                             fix="give one weight per term, e.g. [1.0, 1.0]")
    return Combined(terms, weights)


def class_pixel_stats(masks: Iterable[np.ndarray], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(pixels of each class, pixels of the images that contain each class) over masks."""
    counts = np.zeros(num_classes, np.int64)
    image_pixels = np.zeros(num_classes, np.int64)
    for mask in masks:
        c = np.bincount(np.asarray(mask).reshape(-1).astype(np.int64), minlength=num_classes)[:num_classes]
        counts += c
        image_pixels += (c > 0) * int(np.asarray(mask).size)
    return counts, image_pixels


def median_frequency_weights(masks: Iterable[np.ndarray], num_classes: int, power: float = 1.0) -> list[float]:
    """Median-frequency class weights (median_f / f_c) ** power; a class absent from every mask gets weight 0.

    power = 1 is Eigen & Fergus; power < 1 weakens the balancing (0.5: the square root), power = 0 weighs
    every present class alike.
    """
    counts, image_pixels = class_pixel_stats(masks, num_classes)
    present = counts > 0
    if not present.any():
        raise OocytesegError("the training masks contain no pixels", fix="check the data set")
    freq = np.zeros(num_classes)
    freq[present] = counts[present] / image_pixels[present]
    median = float(np.median(freq[present]))
    return [float((median / f) ** power) if f > 0 else 0.0 for f in freq]
