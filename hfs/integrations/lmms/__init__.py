"""lmms-eval plug-in (``pip install "hfs[lmms]"``): hfs versions of lmms-eval's video models.

``hfs_qwen2_5_vl``, ``hfs_qwen3_vl``, ``hfs_llava_onevision`` and ``hfs_llava_vid`` subclass
lmms-eval's own classes and replace only which frames of a video they are shown: each
question's frames are chosen with hfs for its question and options (``query``), or read from a
precomputed ``hfs_indices`` file, and handed to the model at the size and with the metadata
(source frame indices, fps, times) its uniform path gives (``qwen``). Each sample's frames are
recorded next to lmms-eval's results (``records``). lmms-eval finds the models through the
``lmms_eval.models`` entry point (``manifests.manifests``). Nothing here imports lmms-eval
until a model is built.
"""
