"""Run a page producer in a forked child process, with its own memory and time limits.

A parser of untrusted documents (PDFium) ends the whole process when an allocation fails,
and may take unbounded time on a crafted page. :func:`isolated` forks, caps the child's
address space (``RLIMIT_AS``: what the parent already maps plus ``memory_bytes``), runs the
producer there and streams what it yields back through a pipe, one page at a time; the
parent waits at most ``seconds`` for each. A child that runs out of memory, crashes or
overruns is killed and answered with a typed error; the parent is untouched. Where ``fork``
is missing (not Linux), the producer runs in this process.

The producer yields ``(number, image, dpi)``; ``image`` may be ``None`` (a number alone:
the page count). An :class:`~ocr_engine.errors.OcrError` it raises is raised again here
with its class and message.

Example:
    >>> import numpy as np
    >>> def pages():
    ...     yield 2, None, None
    ...     yield 1, np.zeros((3, 4), np.uint8), 150.0
    >>> [(n, None if a is None else a.shape, d) for n, a, d in isolated(pages, 256 << 20, 10)]
    [(2, None, None), (1, (3, 4), 150.0)]
"""

from __future__ import annotations

import faulthandler
import json
import math
import os
import resource
import select
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from ocr_engine import errors
from ocr_engine.errors import DocumentTooLarge, OcrError, UndecodableDocument

Item = tuple[int, "np.ndarray | None", "float | None"]
# tag, number, height, width, channels, dpi (NaN: none), payload bytes
_HEAD = struct.Struct("<4sqqqqdq")
_CAN_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")


def isolated(produce: Callable[[], Iterator[Item]], memory_bytes: int, seconds: float, *,
             enabled: bool = True, what: str = "the document") -> Iterator[Item]:
    """What ``produce()`` yields, produced in a child process (see the module docstring).

    Args:
        produce: The producer, called in the child.
        memory_bytes: Address space the child may add to what it inherits.
        seconds: Longest wait for each item (the first one includes opening the document).
        enabled: ``False`` runs the producer in this process.
        what: How errors name the source (``"the PDF"``).

    Raises:
        DocumentTooLarge: The child ran out of memory or time.
        UndecodableDocument: The child crashed.
        OcrError: What the producer raised.
    """
    if not (enabled and _CAN_FORK):
        yield from produce()
        return
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns of fork() in a process with threads (onnxruntime's): the child
        # only runs the producer (PDFium, numpy) and writes to its pipe, and glibc's malloc
        # is fork-safe.
        warnings.filterwarnings("ignore", message=".*fork", category=DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(produce, write_end, memory_bytes)
    os.close(write_end)
    done = False
    last = 0
    try:
        while True:
            head = _receive(read_end, _HEAD.size, seconds, what, last)
            if head is None:
                raise _death(pid, what, last, memory_bytes)
            tag, number, height, width, channels, dpi, size = _HEAD.unpack(head)
            payload = _receive(read_end, size, seconds, what, last) if size else b""
            if payload is None:
                raise _death(pid, what, last, memory_bytes)
            if tag == b"DONE":
                done = True
                return
            if tag == b"FAIL":
                raise _rebuild(json.loads(bytes(payload).decode("utf-8")))
            image = None
            if height >= 0:
                shape = (height, width) if channels == 0 else (height, width, channels)
                image = np.frombuffer(payload, np.uint8).reshape(shape)
                last = number
            yield number, image, None if math.isnan(dpi) else dpi
    finally:
        os.close(read_end)
        if not done:
            _kill(pid)
        _reap(pid)


def _receive(fd: int, size: int, seconds: float, what: str, last: int) -> bytearray | None:
    try:
        return _read(fd, size, seconds)
    except TimeoutError:
        where = f"page {last + 1} of {what}" if last else what
        raise DocumentTooLarge(f"reading {where} takes longer than the limit of {seconds:g} s") from None


def _child(produce: Callable[[], Iterator[Item]], out: int, memory_bytes: int) -> None:
    code = 0
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort writes no core file...
        faulthandler.disable()  # ...nor a Python traceback: the parent reports it
        _limit_memory(memory_bytes)
        for number, image, dpi in produce():
            if image is None:
                _send(out, b"ITEM", number, -1, 0, 0, dpi, b"")
            else:
                image = np.ascontiguousarray(image, np.uint8)
                channels = 0 if image.ndim == 2 else image.shape[2]
                _send(out, b"ITEM", number, image.shape[0], image.shape[1], channels, dpi, memoryview(image).cast("B"))
        _send(out, b"DONE", 0, 0, 0, 0, None, b"")
    except OcrError as err:
        _send_error(out, type(err).__name__, err.message)
    except MemoryError:
        _send_error(out, "DocumentTooLarge", f"reading the document needs more memory than the limit of "
                                             f"{memory_bytes >> 20} MiB")
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which raises it typed
        _send_error(out, "UndecodableDocument", f"the document cannot be read ({type(err).__name__})")
        code = 1
    finally:
        os._exit(code)


def _limit_memory(extra: int) -> None:
    """Cap the address space at what is mapped now plus ``extra`` (never above the hard limit)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = mapped + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _send(out: int, tag: bytes, number: int, height: int, width: int, channels: int, dpi: float | None,
          payload: bytes | memoryview) -> None:
    head = _HEAD.pack(tag, number, height, width, channels, math.nan if dpi is None else float(dpi), len(payload))
    _write_all(out, head)
    if len(payload):
        _write_all(out, payload)


def _send_error(out: int, name: str, message: str) -> None:
    payload = json.dumps({"class": name, "message": message}).encode("utf-8")
    try:
        _send(out, b"FAIL", 0, 0, 0, 0, None, payload)
    except OSError:
        pass


def _write_all(out: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while len(view):
        view = view[os.write(out, view[:1 << 20]):]


def _read(fd: int, size: int, seconds: float) -> bytearray | None:
    """``size`` bytes from ``fd``, waiting at most ``seconds`` in all; ``None`` at EOF.

    Raises:
        TimeoutError: Nothing came in time.
    """
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    deadline = time.monotonic() + seconds
    while got < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        n = os.readv(fd, [view[got:]])
        if n == 0:
            return None
        got += n
    return buf


def _rebuild(d: dict[str, str]) -> OcrError:
    cls = getattr(errors, d.get("class", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, OcrError)):
        cls = UndecodableDocument
    return cls(d.get("message", "the document cannot be read"))


def _death(pid: int, what: str, last: int, memory_bytes: int) -> OcrError:
    """The error for a child that stopped without a word."""
    _, status = os.waitpid(pid, 0)
    where = f"page {last + 1} of {what}" if last else what
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT:
        return DocumentTooLarge(f"reading {where} needs more memory than the limit of {memory_bytes >> 20} MiB")
    return UndecodableDocument(f"reading {where} failed (the renderer stopped)")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
