"""libfacedetection's YuNet, read from the weights compiled into its shared library and rebuilt as ONNX."""
