"""ONNX export of a checkpoint (input size and class names embedded) and an ONNX Runtime predictor.

The exported file carries, in its metadata properties, everything needed to use it without the
checkpoint: `oocyteseg.size` ("H,W" the model runs at), `oocyteseg.classes` (JSON list),
`oocyteseg.labelset`, `oocyteseg.mean` / `oocyteseg.std` (input normalisation), `oocyteseg.resize`
(the resize policy; files without it predate letterbox and run as "stretch"), `oocyteseg.train_sizes`
(JSON list of the training frames' [height, width]) and `oocyteseg.model_config`. `OnnxPredictor.predict` goes through the one preprocessing path
(`oocyteseg.data.preprocess`), as `TorchPredictor.predict`, `evaluate` and training do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from oocyteseg.classes import INCLUSIONS, ICSI, LabelSet, labels_from_extra
from oocyteseg.data.preprocess import IMAGE_MEAN, IMAGE_STD, InputSpec, predict_labels
from oocyteseg.devices import onnx_providers
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path, check_writable
from oocyteseg.models import export_onnx, load_checkpoint

META_PREFIX = "oocyteseg."


def export_checkpoint_onnx(checkpoint: str | os.PathLike, onnx_path: str | os.PathLike,
                           size: tuple[int, int] | None = None, opset: int = 17,
                           overwrite: bool = False) -> Path:
    """Export a portable checkpoint to ONNX at `size` (default: its training size), metadata embedded."""
    import onnx

    onnx_path = check_writable(onnx_path, overwrite)
    if onnx_path.suffix.lower() != ".onnx":
        raise OocytesegError("ONNX output must end in .onnx", onnx_path, "name it e.g. model.onnx")
    model, config, extra = load_checkpoint(checkpoint)
    if size is None:
        recorded = (extra or {}).get("size")
        if not recorded:
            raise OocytesegError("checkpoint does not record its input size", checkpoint,
                                 "pass --size H W (e.g. --size 240 320)")
        size = (int(recorded[0]), int(recorded[1]))
    labels = labels_from_extra(extra)
    spec = InputSpec.from_extra(extra, size)
    meta = {"size": f"{size[0]},{size[1]}", "classes": json.dumps(list(labels.classes)), "labelset": labels.name,
            "label_set": json.dumps(labels.to_dict()),
            "mean": json.dumps(list(spec.mean)), "std": json.dumps(list(spec.std)), "resize": spec.resize_policy,
            "train_sizes": json.dumps([list(v) for v in spec.train_sizes]),
            "model_config": json.dumps(config), "checkpoint": Path(checkpoint).name}
    with atomic_path(onnx_path, overwrite) as tmp:
        export_onnx(model, tmp, int(size[0]), int(size[1]), opset, overwrite=True)
        proto = onnx.load(str(tmp))
        onnx.helper.set_model_props(proto, {META_PREFIX + k: v for k, v in meta.items()})
        onnx.save(proto, str(tmp))
    return onnx_path


class OnnxPredictor:
    """Segment RGB uint8 images with an exported ONNX model on ONNX Runtime (CPU, or CUDA when present).

    Args:
        path: an .onnx file written by `export_checkpoint_onnx` (or any model with input
            (N, 3, H, W) and output (N, C, H, W); then the label set is guessed from C).
        threads: ONNX Runtime intra-op threads (None: ONNX Runtime's default, all cores).
        device: "auto" uses the CUDA provider when onnxruntime-gpu and a GPU are present, else the CPU.
        tta: test-time augmentation (`data.preprocess.TTA_MODES`; default none).
    """

    backend = "onnx"

    def __init__(self, path: str | os.PathLike, threads: int | None = None, device: str | None = "auto",
                 tta: str | None = None):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise OocytesegError("ONNX model not found", self.path, "export one with `oocyteseg export`")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.inter_op_num_threads = 1
        # no busy-waiting between ops: the pipeline's other threads (decode, measure, write) need the cores
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            opts.intra_op_num_threads = int(threads)
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=onnx_providers(device))
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise OocytesegError(f"not a readable ONNX model ({type(exc).__name__})", self.path,
                                 "export it again with `oocyteseg export`") from exc
        self.metadata = self.session.get_modelmeta().custom_metadata_map
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.size = self._size(inp.shape)
        self.labels = self._labels()
        mean = json.loads(self.metadata.get(META_PREFIX + "mean", "null")) or IMAGE_MEAN.tolist()
        std = json.loads(self.metadata.get(META_PREFIX + "std", "null")) or IMAGE_STD.tolist()
        self.spec = InputSpec(self.size, tuple(mean), tuple(std), self.metadata.get(META_PREFIX + "resize") or "stretch",
                              tuple(json.loads(self.metadata.get(META_PREFIX + "train_sizes", "[]"))),
                              tta or "none")

    def _size(self, shape: list) -> tuple[int, int]:
        if META_PREFIX + "size" in self.metadata:
            h, w = (int(v) for v in self.metadata[META_PREFIX + "size"].split(","))
            return h, w
        if len(shape) == 4 and all(isinstance(v, int) for v in shape[2:]):
            return int(shape[2]), int(shape[3])
        raise OocytesegError("ONNX model has no fixed input size", self.path,
                             "export it with `oocyteseg export`, which fixes and records the size")

    def _labels(self) -> LabelSet:
        recorded = {k: self.metadata.get(META_PREFIX + k) for k in ("label_set", "labelset", "classes")}
        if any(recorded.values()):
            return labels_from_extra({"label_set": json.loads(recorded["label_set"] or "null"),
                                      "labelset": recorded["labelset"],
                                      "classes": json.loads(recorded["classes"] or "null")})
        channels = self.session.get_outputs()[0].shape[1]
        by_count = {ICSI.num_classes: ICSI, INCLUSIONS.num_classes: INCLUSIONS}
        if channels in by_count:
            return by_count[channels]
        raise OocytesegError(f"cannot tell the classes of a model with {channels} output channels", self.path,
                             "export it with `oocyteseg export`, which records the class names")

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]

    def predict_logits(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Logits (N, C, h, w) at the model size."""
        return self._run(self.spec.batch(images))

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """Index masks (uint8, H x W) for a list of RGB uint8 images (any size; each keeps its own)."""
        return predict_labels(self._run, images, self.spec, batch_size)
