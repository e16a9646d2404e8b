"""Coverage-guided fuzzing of the decoder with atheris (optional, long runs; ``make fuzz-atheris``).

    pip install atheris && python -m tests.fuzz.atheris_decode -max_total_time=600
Any exception other than a 400-class error is a finding.
"""
from __future__ import annotations

import sys


def main() -> None:
    import atheris

    with atheris.instrument_imports():
        from facecore.errors import BadRequest
        from facecore.imaging import DecodeLimits, decode_image

    limits = DecodeLimits(max_pixels=4_000_000, max_frames=20)

    def one_input(data: bytes) -> None:
        try:
            decode_image(data, limits)
        except BadRequest:
            pass

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
