"""Time and peak memory of decoding each crafted class at full size: the figures in docs/security.md.

    .venv/bin/python -m tests.fuzz.cost_table

Each class runs in a fresh interpreter (peak RSS is per process); printed as a Markdown table.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.reliability.helpers import ROOT

CLASSES = {
    "JPEG, 5,000 scans": "crafted.jpeg_with_scans(5000, 256)",
    "JPEG, 2,000,000 segments": "crafted.jpeg_with_segments(2_000_000)",
    "JPEG, 19 MB of junk between segments": "crafted.jpeg_with_junk(19_000_000)",
    "JPEG, 60 KB of junk between segments (accepted)": "crafted.jpeg_with_junk(60_000)",
    "TIFF, chain of 200,000 IFDs": "crafted.tiff_ifd_chain(200_000)",
    "TIFF, 2,000,000 strips": "crafted.tiff_with_strips(2_000_000)",
    "GIF, 800,000 frames": "crafted.gif_with_frames(800_000)",
    "GIF, 5,000,000 sub-blocks": "crafted.gif_with_blocks(5_000_000)",
    "PNG, 1,500,000 chunks": "crafted.png_with_chunks(1_500_000)",
    "APNG declaring 2^31 frames": "crafted.apng_with_frames(2**31)",
    "ICO claiming 16x16, embedding a 20000x20000 PNG": "crafted.ico_with_png(20000, 20000)",
    "animated WebP, 16384x16384 canvas": "crafted.animated_webp(16384, 16384)",
    "animated WebP, 200,000 frames": "crafted.animated_webp(8, 8, 200_000)",
    "animated WebP, 5000x5000 canvas (accepted)": "crafted.animated_webp(5000, 5000)",
    "16-bit PNG, 7071x7071 (accepted)": "crafted.png16(7071, 7071)",
    "8-bit RGB PNG, 7071x7071 (accepted)": "crafted.rgb_png(7071, 7071)",
}

PROBE = """
import json, sys, time
from facecore.errors import BadRequest
from facecore.imaging import decode_image
from tests.fuzz import crafted
def kb(field):
    return int(next(line for line in open("/proc/self/status") if line.startswith(field)).split()[1])
decode_image(crafted.png16(8, 8))
data = eval(sys.argv[1])
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = kb("VmRSS")
started = time.perf_counter()
try:
    outcome = "decoded %dx%d" % decode_image(data).shape[1::-1]
except BadRequest as error:
    outcome = "400: " + error.description
print(json.dumps({"bytes": len(data), "seconds": time.perf_counter() - started,
                  "peak_mb": (kb("VmHWM") - before) / 1024, "outcome": outcome}))
"""


def main() -> None:
    print("| class | file size | answer | time | peak RSS over the process before |")
    print("|---|---|---|---|---|")
    for name, expression in CLASSES.items():
        out = subprocess.run([sys.executable, "-c", PROBE, expression], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, timeout=600).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(f"| {name} | {row['bytes'] / 1e6:.2f} MB | {row['outcome'][:70]} | {row['seconds'] * 1000:.1f} ms "
              f"| {row['peak_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
