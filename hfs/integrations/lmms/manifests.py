"""The ``lmms_eval.models`` entry point: one ``ModelManifest`` per hfs model."""

from __future__ import annotations

# lmms-eval model name -> (module under hfs.integrations.lmms, class, "chat" or "simple")
MODELS: dict[str, tuple[str, str, str]] = {
    "hfs_qwen2_5_vl": ("qwen2_5_vl", "HfsQwen2_5_VL", "chat"),
    "hfs_qwen3_vl": ("qwen3_vl", "HfsQwen3_VL", "chat"),
    "hfs_llava_onevision": ("llava_onevision", "HfsLlavaOneVision", "simple"),
    "hfs_llava_vid": ("llava_vid", "HfsLlavaVid", "simple"),
}


def manifests() -> list:
    """The manifests lmms-eval's registry loads (class paths only: nothing is imported yet)."""
    from lmms_eval.models.registry_v2 import ModelManifest

    out = []
    for name, (module, cls, kind) in MODELS.items():
        path = f"hfs.integrations.lmms.{module}.{cls}"
        out.append(ModelManifest(model_id=name, chat_class_path=path if kind == "chat" else None,
                                 simple_class_path=path if kind == "simple" else None))
    return out
