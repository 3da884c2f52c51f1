"""Inference: predictors (torch, ONNX Runtime) and streaming video analysis.

    >>> from oocyteseg.inference import load_predictor, analyze_videos, AnalyzeConfig
    >>> predictor, info = load_predictor("runs/train/model.pt", backend="onnx")
    >>> outcome = analyze_videos(["videos/"], predictor, "runs/analysis", AnalyzeConfig())
"""

from oocyteseg.inference.batch import BatchOutcome, VideoJob, analyze_videos, find_videos, parse_shard
from oocyteseg.inference.loading import load_predictor
from oocyteseg.inference.onnx_predictor import OnnxPredictor, export_checkpoint_onnx
from oocyteseg.inference.predictor import TorchPredictor
from oocyteseg.inference.video_analysis import AnalyzeConfig, VideoResult, analyze_video

__all__ = ["AnalyzeConfig", "BatchOutcome", "OnnxPredictor", "TorchPredictor", "VideoJob", "VideoResult",
           "analyze_video", "analyze_videos", "export_checkpoint_onnx", "find_videos", "load_predictor",
           "parse_shard"]
