"""Rendered photo-like scenes with known text: the team's photo benchmark (and a detector's training data).

:func:`render_scene` draws one scene for a seed: an object (a train ticket, a till receipt, a care
or product label, a street or station sign, a promotional poster, a book page, an ad turned 90
degrees, vertical Chinese, a notice of framed boxes, shelf price tags) photographed on its
surroundings, with what photos of such things show and documents do not: letter-spaced words,
white-on-colour and coloured text in coloured boxes, dashed frames and rules close to text,
small print, bracketed small English beside Chinese, text over textured pictures, vertical
columns, lines in several colours, perspective and rotation, uneven light, shadows, blur and
JPEG. Its :class:`Scene` carries each line's text and tight polygon, in reading order.

``split="bench"`` is the benchmark, ``split="train"`` a detector's training data: the two never
share a line's text (:func:`~ocr_eval.scenes.texts.split_of`) nor a random stream.
:func:`build_scenes` writes a folder of scenes and its ``pages.tsv`` for the page scorer
(``python -m ocr_eval build-scenes``, then ``python -m ocr_eval photobench``).

Modules: :mod:`~ocr_eval.scenes.truth` (the types), :mod:`~ocr_eval.scenes.texts` (the text and
the splits), :mod:`~ocr_eval.scenes.canvas` (drawing, ink boxes), :mod:`~ocr_eval.scenes.textures`,
:mod:`~ocr_eval.scenes.parts`, the kinds (:mod:`~ocr_eval.scenes.prints`,
:mod:`~ocr_eval.scenes.labels`, :mod:`~ocr_eval.scenes.signs`, :mod:`~ocr_eval.scenes.posters`,
:mod:`~ocr_eval.scenes.book`, :mod:`~ocr_eval.scenes.columns`), :mod:`~ocr_eval.scenes.camera`
(the photo) and :mod:`~ocr_eval.scenes.build`.

Example:
    >>> scene = render_scene(0)
    >>> scene.kind, scene.image.shape[2], scene.lines[0].points.shape
    ('ticket', 3, (4, 2))
    >>> path = build_scenes("data/photobench/scenes", count=60)  # doctest: +SKIP
"""

from ocr_eval.scenes.build import KINDS, build_scenes, render_scene
from ocr_eval.scenes.texts import split_of
from ocr_eval.scenes.truth import Scene, SceneLine

__all__ = ["KINDS", "Scene", "SceneLine", "build_scenes", "render_scene", "split_of"]
