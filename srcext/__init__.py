"""Our own readers and converters for other frameworks' model formats (MXNet, dlib) to ONNX."""
