"""The project's own DB (differentiable binarisation) text-line detector: model, targets, training, export.

Training-time code (PyTorch, pyclipper); the serving path reads only the exported ONNX file
(``ocr_engine.detection.learned``, CONTRACTS.md "The detection model file").
"""
