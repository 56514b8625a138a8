"""Load any method from a checkpoint written by `eventssl fit`, without naming its class."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch

from eventssl.methods.base import SSLModule


def checkpoint_class(path: str | Path) -> type[SSLModule]:
    """The method class recorded in a CLI checkpoint's hyperparameters."""
    checkpoint = read_checkpoint(path)
    class_path = checkpoint.get("hyper_parameters", {}).get("_class_path")
    if not isinstance(class_path, str) or "." not in class_path:
        raise ValueError(
            f"checkpoint {path} records no method class (it was not written by `eventssl fit`); "
            "load it with YourMethod.load_from_checkpoint(path, encoder=...)"
        )
    module_name, _, class_name = class_path.rpartition(".")
    method = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(method, type) and issubclass(method, SSLModule)):
        raise ValueError(f"checkpoint {path}: {class_path} is not an eventssl method")
    return method


def load_method(path: str | Path, map_location: str | torch.device | None = None) -> SSLModule:
    """Rebuild the method (encoder included) and its weights from a CLI checkpoint."""
    return checkpoint_class(path).load_from_checkpoint(path, map_location=map_location)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's contents (tensors memory-mapped), with an error naming the file when it
    is missing or cannot be read.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is truncated or not a torch checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as error:  # torch's own message does not name the file
        raise ValueError(
            f"checkpoint {path} cannot be read ({type(error).__name__}: {error}); the file is "
            "truncated or not a torch checkpoint"
        ) from error
