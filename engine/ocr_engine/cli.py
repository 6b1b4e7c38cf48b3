"""Command line: OCR one or many images, or folders of images.

Usage::

    ocr page.png                       # plain text
    ocr --json scans/ photo.jpg        # one JSON object per line of output (JSON Lines)
    ocr -r scans/                      # also the images in sub-folders of scans/
    ocr --direction vertical poem.png  # columns of vertical Chinese
    ocr --detector learned photo.jpg   # the learned (DB) text detector finds the lines
    ocr --detector whole crop.png      # the image is one pre-cut text line
    python -m ocr_engine --model engine/ocr_engine/weights/crnn_zh_en.onnx a.jpg b.png

    ocr --format hocr page.png         # one document of a format (ocr_engine.formats) on stdout
    ocr --format pdf scan.pdf -o scan.ocr.pdf   # a searchable PDF, every page of scan.pdf
    ocr --format alto -r scans/ -o out/         # one file an input: out/<name>.alto.xml

With ``--format`` each input file (an image, or a PDF or TIFF with all its pages) gives one
document: on stdout for a single file (``pdf`` only when stdout is not a terminal), else in
the ``-o`` folder as ``<file name>.<extension>`` (files found in a given folder keep their
path below it). ``-o FILE`` names the output of a single file given.

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
from typing import TYPE_CHECKING, TextIO

from ocr_engine.errors import InvalidInput, OcrError
from ocr_engine.formats import FORMATS, render

if TYPE_CHECKING:
    from ocr_engine.engine import OcrEngine

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
DOCUMENT_SUFFIXES = {".pdf"}  # read from folders with --format (their pages: ocr_engine.document)
BINARY_FORMATS = {"pdf"}
CLEAR_LINE = "\r\x1b[K"  # back to the line start, erase to its end


def iter_images(paths: Sequence[Path], recursive: bool = False,
                suffixes: set[str] | frozenset[str] = frozenset(IMAGE_SUFFIXES)) -> Iterator[Path]:
    """Files as given, and the files with one of ``suffixes`` (images) inside given folders (sorted).

    Example:
        >>> list(iter_images([Path("a.png")]))
        [PosixPath('a.png')]
    """
    for p in paths:
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from sorted(f for f in p.glob(pattern) if f.is_file() and f.suffix.lower() in suffixes)
        else:
            yield p


def no_images_message(folder: Path, recursive: bool,
                      suffixes: set[str] | frozenset[str] = frozenset(IMAGE_SUFFIXES)) -> str:
    """Why a folder that holds no image to read gave nothing, and what to do about it."""
    if not recursive:
        deeper = sum(1 for _ in iter_images([folder], recursive=True, suffixes=suffixes))
        if deeper:
            return f"no images at the top level of {folder}; {deeper} found in sub-folders: use -r"
    where = f"{folder} or its sub-folders" if recursive else str(folder)
    return f"no images in {where} (looked for {' '.join(sorted(suffixes))})"


def output_name(path: Path, folder: Path | None, extension: str) -> Path:
    """Where the output of ``path`` goes below the ``-o`` folder: its file name (its path below
    ``folder`` when it was found in that given folder) with ``.extension`` added.

    Example:
        >>> output_name(Path("scans/2024/a.png"), Path("scans"), "hocr")
        PosixPath('2024/a.png.hocr')
        >>> output_name(Path("scans/a.pdf"), None, "pdf")
        PosixPath('a.pdf.pdf')
    """
    relative = path.relative_to(folder) if folder is not None and path.is_relative_to(folder) else Path(path.name)
    return relative.with_name(f"{relative.name}.{extension}")


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
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON Lines (one result per image)")
    out.add_argument("--format", "-f", choices=list(FORMATS),
                     help="write one document a file in this format (PDF and TIFF files: all their pages)")
    p.add_argument("--output", "-o", type=Path,
                   help="with --format: the output file (one input) or folder (several inputs)")
    p.add_argument("--recursive", "-r", action="store_true", help="descend into sub-folders")
    p.add_argument("--model", type=Path, help="recognition model (default: OCR_MODEL_PATH or the repo model)")
    p.add_argument("--threads", type=int, help="onnxruntime intra-op threads")
    p.add_argument("--detector", metavar="{opencv,learned,auto,whole}",
                   help="what finds the text lines: 'opencv' (the OpenCV line finder), 'learned' (the DB "
                        "text detector model), 'auto' (chosen per image), 'whole' (each image is one text "
                        "line) (default: OCR_DETECTOR or opencv)")
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
    from ocr_engine.config import DETECTORS, OcrConfig, check_direction
    from ocr_engine.engine import OcrEngine

    if args.output is not None and args.format is None:
        print("ocr: -o/--output needs --format", file=sys.stderr)
        return 2
    suffixes = IMAGE_SUFFIXES | DOCUMENT_SUFFIXES if args.format else IMAGE_SUFFIXES
    files: list[tuple[Path, Path | None]] = []  # (file, the given folder it was found in)
    failed = 0
    for given in args.paths:
        found = list(iter_images([given], args.recursive, suffixes))
        if given.is_dir() and not found:
            print(f"ocr: {no_images_message(given, args.recursive, suffixes)}", file=sys.stderr)
            failed += 1
        files += [(f, given if given.is_dir() else None) for f in found]
    if not files:
        return 1
    targets: list[Path | None] = [None] * len(files)
    if args.format:
        planned = _plan_outputs(files, args.format, args.output)
        if isinstance(planned, str):
            print(f"ocr: {planned}", file=sys.stderr)
            return 2
        targets = planned
    try:
        cfg = OcrConfig.from_env()
        changes: dict[str, object] = {}
        if args.model:
            changes["model_path"] = args.model
        if args.threads is not None:
            changes["threads"] = args.threads
        if args.detector:
            if args.detector not in DETECTORS:
                raise InvalidInput(f"--detector must be one of {', '.join(DETECTORS)}, got {args.detector!r}")
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
    for i, ((path, _), target) in enumerate(zip(files, targets), start=1):
        if args.format:
            failed += not _write_document(engine, path, args.format, target, progress)
        else:
            failed += not _print_result(engine, path, args.json, len(files) > 1, progress)
        sys.stdout.flush()  # the result is on the terminal before the bar comes back
        progress.update(i, path.name)
    return 1 if failed else 0


def _print_result(engine: OcrEngine, path: Path, as_json: bool, several: bool, progress: Progress) -> bool:
    """Read one image and print its text (or its JSON line); False when it was refused."""
    try:
        result = engine.run(path.read_bytes())
    except (OcrError, OSError) as err:
        msg = err.message if isinstance(err, OcrError) else str(err)
        code = err.code if isinstance(err, OcrError) else "io_error"
        progress.clear()
        if as_json:
            print(json.dumps({"file": str(path), "error": code, "message": msg}, ensure_ascii=False))
        else:
            print(f"ocr: {path}: {msg}", file=sys.stderr)
        return False
    progress.clear()
    if as_json:
        print(json.dumps({"file": str(path), **result.to_dict()}, ensure_ascii=False))
    else:
        if several:
            print(f"==> {path} <==")
        print(result.text)
    return True


def _plan_outputs(files: list[tuple[Path, Path | None]], fmt: str, output: Path | None) -> list[Path | None] | str:
    """Where each input's document goes (None: stdout), or why the command line cannot be done."""
    extension = FORMATS[fmt].extension
    if output is None:
        if len(files) > 1:
            return f"{len(files)} files to read: give -o FOLDER for their --format {fmt} outputs"
        if fmt in BINARY_FORMATS and sys.stdout.isatty():
            return f"--format {fmt} is binary: give -o FILE, or send stdout to a file or a pipe"
        return [None]
    if len(files) == 1 and files[0][1] is None and not output.is_dir():  # one file given: -o names its output
        return [output]
    if output.exists() and not output.is_dir():
        return f"-o {output}: not a folder, and {len(files)} files are to be read"
    targets = [output / output_name(path, folder, extension) for path, folder in files]
    twice = sorted({str(t) for t in targets if targets.count(t) > 1})
    if twice:
        return f"two inputs would write the same file: {', '.join(twice)}"
    return list(targets)


def _document_kind(data: bytes) -> str | None:
    """``pdf`` or ``tiff`` when ``ocr_engine.document`` reads ``data`` page by page, else None."""
    try:
        from ocr_engine.document import document_kind
    except ImportError:  # a build without the document reader: every file is an image
        return None
    return document_kind(data)


def _write_document(engine: OcrEngine, path: Path, fmt: str, target: Path | None, progress: Progress) -> bool:
    """Read one file (every page of a PDF or TIFF) and write its document; False when refused."""
    try:
        data = path.read_bytes()
        result = engine.run_document(data) if _document_kind(data) else engine.run(data)
        body = render(result, fmt, source=data)
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    except (OcrError, OSError) as err:
        progress.clear()
        print(f"ocr: {path}: {err.message if isinstance(err, OcrError) else err}", file=sys.stderr)
        return False
    progress.clear()
    if target is None:
        if fmt in {"json", "textract"}:
            body += b"\n"  # a JSON document on stdout ends its line
        stream = getattr(sys.stdout, "buffer", None)
        sys.stdout.flush()
        if stream is not None:
            stream.write(body)
            stream.flush()
        else:  # a text-only stream (the binary formats never reach one: see _plan_outputs)
            sys.stdout.write(body.decode("utf-8"))
    return True
