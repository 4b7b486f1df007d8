"""hfs: query-aware key-frame selection for video LLMs.

>>> import hfs
>>> sel = hfs.select("video.mp4", "what does the man put in the box?", k=16)
>>> sel.frames   # [{"index", "frame", "time", "score"}, ...] sorted by index ("frame": the source frame number)
"""

__version__ = "0.1.0"

from hfs.config import ObjectiveConfig, SelectConfig  # noqa: E402
from hfs.errors import EncoderNotAvailableError, HfsError, InputError, VideoError  # noqa: E402
from hfs.pipeline import select, select_with_config  # noqa: E402
from hfs.selection import Selection, create_selector, list_selectors  # noqa: E402

__all__ = [
    "EncoderNotAvailableError", "HfsError", "InputError", "ObjectiveConfig", "SelectConfig", "Selection",
    "VideoError", "__version__", "create_selector", "list_selectors", "select", "select_with_config",
]
