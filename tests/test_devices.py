"""--device auto: CUDA when present, else CPU; ONNX Runtime providers follow; bad names are one-line errors."""

import pytest
import torch

from oocyteseg.devices import onnx_providers, resolve_device
from oocyteseg.errors import OocytesegError


def test_auto_picks_cuda_only_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu") and resolve_device(None) == torch.device("cpu")
    assert onnx_providers("auto") == ["CPUExecutionProvider"]
    with pytest.raises(OocytesegError, match="no CUDA GPU"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda") and resolve_device("cuda:1") == torch.device("cuda:1")


def test_onnx_uses_cuda_provider_when_onnxruntime_has_it(monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert onnx_providers("auto") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert onnx_providers("auto") == ["CPUExecutionProvider"]  # onnxruntime without CUDA: CPU, no error


def test_unknown_device_lists_the_valid_ones():
    with pytest.raises(OocytesegError, match="valid: auto, cpu, cuda"):
        resolve_device("gpu0")
