"""What the trained scorer MLP_s reads for frame i (``hfs.scoring.mlp``), importable without torch
so that ``StudentConfig`` checks it for free: the paper's [frame ; query], or with their
elementwise product appended, which lets a two-layer MLP match a frame against the query
(docs/reproducing.md, the miniature)."""

SCORER_INPUTS = ("concat", "concat+product")
