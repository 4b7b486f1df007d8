"""Names of the decoding modes (``hfs.video.decode`` says what each does), importable without PyAV
so that configs and the CLI parser check them for free."""

DECODE_MODES = ("auto", "seek", "sequential", "keyframe")
