"""Files the embedded stores keep under ``YURT_DATA_DIR``: written whole and atomically, and noticed when another
process (another gunicorn worker sharing the folder) replaced them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

FileStamp = tuple[int, int, int]


def write_atomically(path: Path, data: bytes) -> None:
    """write → fsync → rename → fsync(dir): the file is either the old or the new content, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def file_stamp(path: Path) -> FileStamp | None:
    """(inode, mtime, size): changes when a write replaced the file (a rename gives a new inode); None if absent."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
