"""oocyteseg: segmentation and morphometry of oocyte micrographs and ICSI videos."""

__version__ = "0.1.0"
