"""Only safetensors weights are loaded: check a model folder before transformers reads it.

Pickle-based weight files (``pytorch_model.bin``, ``.pt``, ``.ckpt``...) can run code when
loaded, so a folder that has only those is refused, and every ``.safetensors`` file must have a
valid header. Both failures are one ``WeightsError`` line naming the folder or file. Hub names
are left to ``from_pretrained(..., use_safetensors=True)``, which refuses pickles itself;
``load_errors`` lists what a broken file raises there.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from hfs.errors import HfsError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class WeightsError(HfsError):
    """Model weights that hfs will not load: pickle files only, or a broken safetensors file."""


def _safetensors_error() -> type[Exception]:
    from safetensors import SafetensorError

    return SafetensorError


def load_errors() -> tuple[type[Exception], ...]:
    """What loading a damaged or pickled weight file raises, beside OSError and ValueError."""
    return (_safetensors_error(), pickle.UnpicklingError, EOFError)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def invalid_weights(name_or_path: str | Path, what: str, exc: BaseException) -> WeightsError:
    """The error for ``exc``, raised by a loader reading a broken or pickled weight file."""
    return WeightsError(f"{name_or_path}: the {what}'s weights are not valid safetensors ({_reason(exc)}); "
                        f"only safetensors weights are loaded")


def check_safetensors(file: str | Path) -> None:
    """Raise ``WeightsError`` unless ``file`` is a readable safetensors file (header checked)."""
    from safetensors import safe_open

    file = Path(file)
    try:
        with safe_open(str(file), framework="pt"):
            pass
    except (_safetensors_error(), OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{file}: not a valid safetensors file ({_reason(exc)})") from exc


def check_model_folder(name_or_path: str | Path, what: str) -> None:
    """Refuse a local model folder whose weights are not (valid) safetensors.

    ``what`` names the model's role in the message ("image-text model", "student base LM"...).
    Not a folder (a hub name): nothing to check here. A folder without any weight file is left
    to the loader, which says what is missing.
    """
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        return
    tensors = sorted(path.glob("*.safetensors"))
    if not tensors:
        pickles = sorted(p.name for p in path.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES and p.is_file())
        if pickles:
            raise WeightsError(
                f"{path}: the {what}'s weights are a pickle file ({pickles[0]}); only safetensors weights are "
                f"loaded (convert them to model.safetensors, e.g. with save_pretrained(safe_serialization=True))")
        return
    for file in tensors:
        check_safetensors(file)
