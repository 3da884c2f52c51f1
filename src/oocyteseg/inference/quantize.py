"""Static INT8 quantisation of an exported ONNX model, calibrated on a lab's own stills, and the check that
decides whether to keep it.

`quantize_int8` runs `onnxruntime.quantization.quantize_static` (QDQ format, per-channel INT8 weights, UINT8
activations) with calibration batches made by the model's own input spec (the one preprocessing path), and
copies the float model's metadata, so `OnnxPredictor` and `analyze` use the INT8 file exactly as the float one.
`int8_check` scores the float32 and the INT8 model on the same annotated stills; the project keeps INT8 only
if the mean IoU drops by at most `MAX_IOU_DROP` (issue 14).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.metrics import confusion_matrix, summarize
from oocyteseg.inference.onnx_predictor import META_PREFIX, OnnxPredictor, export_checkpoint_onnx
from oocyteseg.io.atomic import atomic_path, check_writable

MAX_IOU_DROP = 0.005
QUANT_KEY = META_PREFIX + "quantization"


@dataclass(frozen=True)
class Int8Check:
    """Mean IoU (foreground classes) of the float32 and INT8 model on the same annotated stills."""

    images: int
    float32: float
    int8: float
    per_class_float32: dict[str, float]
    per_class_int8: dict[str, float]

    @property
    def drop(self) -> float:
        return self.float32 - self.int8

    def passes(self, max_drop: float = MAX_IOU_DROP) -> bool:
        return self.drop <= max_drop


def _batches(predictor: OnnxPredictor, images: Sequence[np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
    for image in images:
        yield {predictor.input_name: predictor.spec.batch([image])}


def quantize_int8(onnx_path: str | os.PathLike, out_path: str | os.PathLike, calibration: Sequence[np.ndarray], *,
                  overwrite: bool = False, exclude_decoder: bool = False) -> Path:
    """Write a static INT8 (QDQ) copy of an `oocyteseg export` ONNX file, calibrated on `calibration` images.

    Args:
        onnx_path: the float32 ONNX model (metadata is copied from it).
        out_path: the INT8 .onnx file (written atomically; refused if it exists unless `overwrite`).
        calibration: RGB uint8 stills of the lab's own data (any size; the model's input spec resizes them).
        exclude_decoder: keep the decoder and the segmentation head in float32.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out_path = check_writable(out_path, overwrite)
    if out_path.suffix.lower() != ".onnx":
        raise OocytesegError("ONNX output must end in .onnx", out_path, "name it e.g. model-int8.onnx")
    if not calibration:
        raise OocytesegError("INT8 quantisation needs calibration stills", onnx_path,
                             "pass --calibration MANIFEST with annotated stills of your own videos")
    predictor = OnnxPredictor(onnx_path, threads=1, device="cpu")
    batches = _batches(predictor, calibration)

    class Reader(CalibrationDataReader):
        def get_next(self):
            return next(batches, None)

    source = onnx.load(str(onnx_path))
    with tempfile.TemporaryDirectory(prefix="oocyteseg-int8-") as work:
        pre = Path(work) / "pre.onnx"
        quant_pre_process(str(onnx_path), str(pre), skip_symbolic_shape=True)
        names = [n.name for n in onnx.load(str(pre)).graph.node]
        exclude = [n for n in names if "/decoder/" in n or "segmentation_head" in n] if exclude_decoder else []
        quantize_static(str(pre), str(Path(work) / "int8.onnx"), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=exclude)
        model = onnx.load(str(Path(work) / "int8.onnx"))
    props = {p.key: p.value for p in source.metadata_props}
    props[QUANT_KEY] = json.dumps({"format": "int8 static QDQ, per-channel weights", "calibration_images":
                                   len(calibration), "float_model": Path(onnx_path).name,
                                   "exclude_decoder": exclude_decoder})
    onnx.helper.set_model_props(model, props)
    with atomic_path(out_path, overwrite) as tmp:
        onnx.save(model, str(tmp))
    return out_path


def _mean_iou(predictor: OnnxPredictor, images: Sequence[np.ndarray], masks: Sequence[np.ndarray]) \
        -> tuple[float, dict[str, float]]:
    classes = list(predictor.labels.classes)
    cm = sum(np.asarray(confusion_matrix(p, m, len(classes))) for p, m in zip(predictor.predict(images), masks))
    s = summarize(cm, classes)
    return float(s["mean_iou"]), {c: float(s[f"iou_{c}"]) for c in classes[1:]}


def int8_check(float_path: str | os.PathLike, int8_path: str | os.PathLike, images: Sequence[np.ndarray],
               masks: Sequence[np.ndarray], threads: int | None = None) -> Int8Check:
    """Score both models on the same annotated stills (the masks' classes are the models' label set)."""
    if not images:
        raise OocytesegError("the INT8 check needs annotated stills", float_path, "pass --check-cases")
    f32, f32_classes = _mean_iou(OnnxPredictor(float_path, threads=threads, device="cpu"), images, masks)
    q, q_classes = _mean_iou(OnnxPredictor(int8_path, threads=threads, device="cpu"), images, masks)
    return Int8Check(len(images), f32, q, f32_classes, q_classes)


def export_int8(model: str | os.PathLike, out_path: str | os.PathLike, data: str | os.PathLike, *,
                check_cases: Sequence[str] = (), calibration_images: int = 32, max_drop: float = MAX_IOU_DROP,
                size: tuple[int, int] | None = None, exclude_decoder: bool = False, threads: int | None = None,
                overwrite: bool = False, seed: int = 0) -> tuple[Path, Int8Check | None]:
    """Export `model` (a checkpoint or a float32 ONNX file) as a static INT8 ONNX file, calibrated on up to
    `calibration_images` stills of `data` (a manifest) outside `check_cases`, and checked on `check_cases`.

    With check cases, the file is written only if the mean IoU drops by at most `max_drop` (the check is stored
    in its metadata); otherwise a one-line error gives both IoUs and nothing is written.
    """
    from oocyteseg.io.images import read_image, read_mask
    from oocyteseg.training.data import load_rows

    out_path = check_writable(out_path, overwrite)
    if calibration_images < 1:
        raise OocytesegError(f"--calibration-images must be at least 1, got {calibration_images}", fix="e.g. 32")
    with tempfile.TemporaryDirectory(prefix="oocyteseg-int8-") as work:
        if Path(model).suffix.lower() == ".onnx":
            if size is not None:
                raise OocytesegError("an ONNX model keeps the size it was exported at", model,
                                     "drop --size, or give the checkpoint (.pt)")
            f32 = Path(model)
        else:
            f32 = export_checkpoint_onnx(model, Path(work) / "float32.onnx", size=size, overwrite=True)
        labels = OnnxPredictor(f32, threads=1, device="cpu").labels
        rows = load_rows([data], labels.name)
        unknown = sorted(set(check_cases) - set(rows["case"]))
        if unknown:
            raise OocytesegError(f"check case(s) {unknown} are not in the data (cases: {sorted(set(rows['case']))})",
                                 data, "check --check-cases")
        held = rows["case"].isin(list(check_cases))
        pool = rows[~held]
        if pool.empty:
            raise OocytesegError("no calibration stills left outside the check cases", data,
                                 "keep at least one case out of --check-cases")
        picked = pool.sample(min(calibration_images, len(pool)), random_state=seed)
        calibration = [read_image(p) for p in picked["image_path"]]
        int8 = quantize_int8(f32, Path(work) / "int8.onnx", calibration, overwrite=True,
                             exclude_decoder=exclude_decoder)
        check = None
        record: dict = {"calibration_cases": sorted(set(picked["case"].astype(str)))}
        if check_cases:
            test = rows[held]
            check = int8_check(f32, int8, [read_image(p) for p in test["image_path"]],
                               [read_mask(p) for p in test["mask_path"]], threads=threads)
            record["check"] = {"cases": sorted(check_cases), **asdict(check), "drop": check.drop,
                               "max_drop": max_drop}
            if not check.passes(max_drop):
                raise OocytesegError(
                    f"INT8 loses {check.drop:.4f} mean IoU on {', '.join(sorted(check_cases))} "
                    f"({check.float32:.4f} -> {check.int8:.4f}; at most {max_drop:g} allowed); nothing written",
                    out_path, "keep the float32 export, calibrate on more stills (--calibration-images) "
                              "or try --exclude-decoder")
        _add_record(int8, out_path, record, overwrite)
    return out_path, check


def _add_record(int8: Path, out_path: Path, record: dict, overwrite: bool) -> None:
    import onnx

    model = onnx.load(str(int8))
    props = {p.key: p.value for p in model.metadata_props}
    props[QUANT_KEY] = json.dumps({**json.loads(props.get(QUANT_KEY, "{}")), **record})
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    with atomic_path(out_path, overwrite) as tmp:
        onnx.save(model, str(tmp))
