"""Command line: OCR one or many images, or folders of images.

Usage::

    ocr page.png                       # plain text
    ocr --json scans/ photo.jpg        # one JSON object per line of output (JSON Lines)
    ocr -r scans/                      # also the images in sub-folders of scans/
    ocr --direction vertical poem.png  # columns of vertical Chinese
    ocr --detector whole crop.png      # the image is one pre-cut text line
    python -m ocr_engine --model engine/ocr_engine/weights/crnn_zh_en.onnx a.jpg b.png

Exit status: 0 when every image was read, 1 when some were refused or a folder had no
images to read, 2 for a bad command line or model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ocr_engine.errors import OcrError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
CLEAR_LINE = "\r\x1b[K"  # back to the line start, erase to its end


def iter_images(paths: Sequence[Path], recursive: bool = False) -> Iterator[Path]:
    """Files as given, and image files inside given folders (sorted).

    Example:
        >>> list(iter_images([Path("a.png")]))
        [PosixPath('a.png')]
    """
    for p in paths:
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from sorted(f for f in p.glob(pattern) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield p


def no_images_message(folder: Path, recursive: bool) -> str:
    """Why a folder that holds no image to read gave nothing, and what to do about it."""
    if not recursive:
        deeper = sum(1 for _ in iter_images([folder], recursive=True))
        if deeper:
            return f"no images at the top level of {folder}; {deeper} found in sub-folders: use -r"
    where = f"{folder} or its sub-folders" if recursive else str(folder)
    return f"no images in {where} (looked for {' '.join(sorted(IMAGE_SUFFIXES))})"


class Progress:
    """A minimal progress bar on a terminal stream (silent when not a TTY or for one file).

    Anything else written to the terminal while the bar shows goes between :meth:`clear`
    and the next :meth:`update`, so that it never lands inside the bar's line.
    """

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.enabled = total > 1 and stream.isatty()
        self.start = time.perf_counter()
        self.shown = False  # a bar is on the terminal's current line

    def update(self, done: int, label: str = "") -> None:
        """Redraw the bar after ``done`` items (on its own line once all are done)."""
        if not self.enabled:
            return
        filled = int(self.width * done / max(self.total, 1))
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"{CLEAR_LINE}[{bar}] {done}/{self.total} {rate:5.1f} img/s {label[:30]:30s}")
        self.shown = done < self.total
        if not self.shown:
            self.stream.write("\n")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the bar, leaving the cursor at the start of its (now empty) line."""
        if self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.shown = False


def build_parser() -> argparse.ArgumentParser:
    """The ``ocr`` argument parser."""
    p = argparse.ArgumentParser(prog="ocr", description="Chinese + English OCR of images.")
    p.add_argument("paths", nargs="+", type=Path, help="image files or folders")
    p.add_argument("--json", action="store_true", help="print JSON Lines (one result per image)")
    p.add_argument("--recursive", "-r", action="store_true", help="descend into sub-folders")
    p.add_argument("--model", type=Path, help="recognition model (default: OCR_MODEL_PATH or the repo model)")
    p.add_argument("--threads", type=int, help="onnxruntime intra-op threads")
    p.add_argument("--detector", choices=["opencv", "whole"], help="'whole': each image is one text line")
    p.add_argument("--direction", metavar="{auto,horizontal,vertical}",
                   help="how the text runs; 'vertical': columns of Chinese, read right to left "
                        "(default: OCR_TEXT_DIRECTION or auto)")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ocr`` and ``python -m ocr_engine``; returns the exit status."""
    try:
        return _run(build_parser().parse_args(argv))
    except BrokenPipeError:  # e.g. piped into `head`
        return 0


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command line."""
    from ocr_engine.config import OcrConfig, check_direction
    from ocr_engine.engine import OcrEngine

    files: list[Path] = []
    failed = 0
    for given in args.paths:
        found = list(iter_images([given], args.recursive))
        if given.is_dir() and not found:
            print(f"ocr: {no_images_message(given, args.recursive)}", file=sys.stderr)
            failed += 1
        files += found
    if not files:
        return 1
    try:
        cfg = OcrConfig.from_env()
        changes: dict[str, object] = {}
        if args.model:
            changes["model_path"] = args.model
        if args.threads is not None:
            changes["threads"] = args.threads
        if args.detector:
            changes["detector"] = args.detector
        if args.direction:
            changes["text_direction"] = check_direction(args.direction, name="--direction")
        engine = OcrEngine.from_config(cfg.replace(**changes) if changes else cfg)
    except OcrError as err:
        print(f"ocr: {err.message}", file=sys.stderr)
        return 2
    progress = Progress(len(files), stream=sys.stderr)
    progress.enabled = progress.enabled and not args.no_progress
    progress.update(0)
    for i, path in enumerate(files, start=1):
        try:
            result = engine.run(path.read_bytes())
        except (OcrError, OSError) as err:
            failed += 1
            msg = err.message if isinstance(err, OcrError) else str(err)
            code = err.code if isinstance(err, OcrError) else "io_error"
            progress.clear()
            if args.json:
                print(json.dumps({"file": str(path), "error": code, "message": msg}, ensure_ascii=False))
            else:
                print(f"ocr: {path}: {msg}", file=sys.stderr)
        else:
            progress.clear()
            if args.json:
                print(json.dumps({"file": str(path), **result.to_dict()}, ensure_ascii=False))
            else:
                if len(files) > 1:
                    print(f"==> {path} <==")
                print(result.text)
        sys.stdout.flush()  # the result is on the terminal before the bar comes back
        progress.update(i, path.name)
    return 1 if failed else 0
