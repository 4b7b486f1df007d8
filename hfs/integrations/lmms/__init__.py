"""lmms-eval plug-in (``pip install "hfs[lmms]"``): hfs versions of lmms-eval's video models.

``hfs_qwen2_5_vl``, ``hfs_llava_onevision`` and ``hfs_llava_vid`` subclass lmms-eval's own
classes and replace only how they sample a video's frames: each question's frames are chosen
with hfs (or read from a precomputed ``hfs_indices`` file) and handed to the model with their
real times, frame indices and fps. lmms-eval finds them through the ``lmms_eval.models`` entry
point (``manifests.manifests``). Nothing here imports lmms-eval until a model is built.
"""
