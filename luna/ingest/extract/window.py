"""A read-only file over a slice of bytes or of a memory map, without copying it whole."""

from __future__ import annotations

import io


class Window(io.RawIOBase):
    """A read-only file over data[start:end] whose position 0 is `start`: TIFF offsets count
    from the TIFF header, wherever it sits. Reads copy only what they ask for, and no buffer
    is exported, so the caller can close its mmap as soon as the reading is done."""

    def __init__(self, data, start: int, end: int):
        super().__init__()
        self.data, self.start = data, start
        self.size = max(0, min(end, len(data)) - start)
        self.pos = 0

    def read(self, size: int = -1) -> bytes:
        first = min(self.pos, self.size)
        last = self.size if size is None or size < 0 else min(self.size, first + size)
        chunk = self.data[self.start + first : self.start + last]
        self.pos = last
        return chunk if isinstance(chunk, bytes) else bytes(chunk)

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = (0, self.pos, self.size)[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True
