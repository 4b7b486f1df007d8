"""hfs: query-aware key-frame selection for video LLMs.

>>> import hfs
>>> sel = hfs.select("video.mp4", "what does the man put in the box?", k=16)
>>> sel.frames   # [{"index", "frame", "time", "score"}, ...] sorted by index ("frame": the source frame number)

Every name below but ``__version__`` and the errors loads on first use (``hfs.lazy``), so that
``import hfs`` and ``hfs --help`` do not pay for numpy, PyAV or torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfs.errors import EncoderNotAvailableError, HfsError, InputError, VideoError
from hfs.lazy import lazy_exports

__version__ = "0.1.0"

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "ObjectiveConfig": ".config", "SelectConfig": ".config",
    "select": ".pipeline", "select_with_config": ".pipeline",
    "Selection": ".selection", "create_selector": ".selection", "list_selectors": ".selection",
    "export": ".export",
})

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on first use
    from hfs import export
    from hfs.config import ObjectiveConfig, SelectConfig
    from hfs.pipeline import select, select_with_config
    from hfs.selection import Selection, create_selector, list_selectors

__all__ = [
    "EncoderNotAvailableError", "HfsError", "InputError", "ObjectiveConfig", "SelectConfig", "Selection",
    "VideoError", "__version__", "create_selector", "export", "list_selectors", "select", "select_with_config",
]
