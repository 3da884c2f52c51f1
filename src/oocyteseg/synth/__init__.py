"""Synthetic training data: random label maps and a pix2pix mask->image GAN (Andreini et al.).

"Synthetic" here always means GAN-generated; the procedural renderer is `oocyteseg.phantom`.
"""

from oocyteseg.synth.checkpoint import build_networks, load_checkpoint, load_generator
from oocyteseg.synth.config import GanConfig, config_yaml, load_gan_config, parse_gan_config, save_config
from oocyteseg.synth.generate import generate, write_labelmaps
from oocyteseg.synth.grids import colorize, grid_image, nearest_real, save_grid, write_nearest_grid
from oocyteseg.synth.labelmaps import (IcsiSamplerConfig, InclusionSamplerConfig, LabelMap, map_rng,
                                       sample_icsi_map, sample_inclusion_map, sample_label_map)
from oocyteseg.synth.networks import PatchDiscriminator, UNetGenerator, one_hot
from oocyteseg.synth.pairs import Pair, PairDataset, find_pairs, read_split_cases
from oocyteseg.synth.module import GanModule
from oocyteseg.synth.train import GanRun, train_gan

__all__ = [
    "GanConfig", "GanModule", "GanRun", "IcsiSamplerConfig", "InclusionSamplerConfig", "LabelMap", "Pair", "PairDataset",
    "PatchDiscriminator", "UNetGenerator", "build_networks", "colorize", "config_yaml", "find_pairs", "generate",
    "grid_image", "load_checkpoint", "load_gan_config", "load_generator", "map_rng", "nearest_real", "one_hot",
    "parse_gan_config", "read_split_cases", "sample_icsi_map", "sample_inclusion_map", "sample_label_map",
    "save_config", "save_grid", "train_gan", "write_labelmaps", "write_nearest_grid",
]
