"""HTTP layer: request parsing, the CompreFace wire format and JSON errors."""
