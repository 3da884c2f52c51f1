"""Config files: one YAML reader and one parser of `--set key=value` overrides for every config kind."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from oocyteseg.errors import OocytesegError


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """A YAML mapping from `path` ({} for an empty file); one-line error naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("config file not found", path, "check the --config path, e.g. configs/fast-cpu.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise OocytesegError(f"config is not valid YAML ({str(exc).splitlines()[0]})", path,
                             "fix the YAML syntax") from None
    if data is not None and not isinstance(data, dict):
        raise OocytesegError("config must be a mapping of sections", path, "see the presets in configs/")
    return data or {}


def parse_value(text: str) -> Any:
    """An override value read as YAML ("1e-3" -> 0.001, "[a, b]" -> list, "null" -> None); else the text."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_override(item: str) -> tuple[str, Any]:
    """`"optim.lr=1e-3"` -> ("optim.lr", 0.001)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise OocytesegError(f"override {item!r} is not key=value", fix="write e.g. --set optim.lr=1e-3")
    return key.strip(), parse_value(value)


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set `raw["a"]["b"] = value` for key "a.b", in place; missing sections are made."""
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        if node.get(part) is None:
            node[part] = {}
        if not isinstance(node[part], dict):
            raise OocytesegError(f"override {key!r}: {part!r} is not a section", fix="check the key")
        node = node[part]
    node[parts[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    """A copy of a nested dict with dotted `key=value` overrides (`optim.lr=1e-3`) set."""
    out = copy.deepcopy(raw)
    for item in overrides or []:
        set_dotted(out, *parse_override(item))
    return out
