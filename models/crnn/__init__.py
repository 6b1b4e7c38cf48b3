"""The project's own CRNN recogniser: charset, synthetic data, model, training, export.

Everything here is training-time code (PyTorch, Pillow); the serving path reads only the
exported ONNX file.
"""
