"""Small pictures for tests: the header bytes a reader of sizes needs, nothing drawn."""

from __future__ import annotations

import struct
import zlib

from publishers.image_size import PNG_SIGNATURE


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk (8-bit RGB), with its CRC: enough to be sized."""
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))
