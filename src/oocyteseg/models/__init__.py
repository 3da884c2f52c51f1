"""Segmentation models: architectures, a registry, backbone weights, checkpoints and ONNX export.

    >>> from oocyteseg.models import create_model, list_models
    >>> model = create_model("unet_small_tiny", num_classes=4)
"""

from oocyteseg.models import deeplab, lraspp, smanet, unet_effnet, unet_resnet, unet_small  # noqa: F401  (registers)
from oocyteseg.models.checkpoint import load_checkpoint, make_model_config, read_checkpoint, save_checkpoint
from oocyteseg.models.onnx_export import export_onnx
from oocyteseg.models.registry import (
    ModelEntry,
    build_model,
    count_parameters,
    create_model,
    get_model_entry,
    list_models,
    register_model,
)
from oocyteseg.models.weights import LoadReport, load_backbone_weights

__all__ = [
    "LoadReport",
    "ModelEntry",
    "build_model",
    "count_parameters",
    "create_model",
    "export_onnx",
    "get_model_entry",
    "list_models",
    "load_backbone_weights",
    "load_checkpoint",
    "make_model_config",
    "read_checkpoint",
    "register_model",
    "save_checkpoint",
]
