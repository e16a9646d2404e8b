"""Silent-Face's MiniFASNet anti-spoofing weights (PyTorch state dicts) to ONNX; PyTorch only at conversion."""
from srcext.minifasnet.convert import MinifasnetConversionError, convert_cached

__all__ = ["MinifasnetConversionError", "convert_cached"]
