"""The app's shared parts: settings, observability, error statuses, the engine and store protocols."""

from __future__ import annotations

import pytest

from support.lambda_events import FakeEngine


def _public(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def test_every_error_code_has_its_http_status():
    from ocr_engine import errors
    from ocr_service.handlers.requests import TooManyImages, UnsupportedMediaType
    from ocr_service.status import http_status

    expected = {
        errors.OcrError: 500, errors.InvalidInput: 400, errors.EmptyImage: 400, errors.ImageTooLarge: 413,
        errors.UnsupportedImageType: 415, errors.UndecodableImage: 422, errors.ImageTooSmall: 422,
        errors.ModelError: 500, errors.ConfigError: 500, UnsupportedMediaType: 415, TooManyImages: 400,
    }
    assert {cls: http_status(cls("x")) for cls in expected} == expected

    class NewRefusal(errors.InvalidInput):
        code = "new_refusal"

    assert http_status(NewRefusal("x")) == 400  # a code not listed: its base class's status


def test_engine_errors_know_nothing_of_http():
    from ocr_engine.errors import ImageTooLarge

    err = ImageTooLarge("too big")
    assert (err.code, err.message) == ("image_too_large", "too big")
    assert not hasattr(err, "http_status")


def test_the_object_limit_is_the_engines_image_limit():
    from ocr_engine.config import OcrConfig
    from ocr_engine.errors import ConfigError
    from ocr_service.settings import Settings

    assert Settings.from_env({}).max_image_bytes == OcrConfig.from_env({}).limits.max_bytes == 20 * 1024 * 1024
    assert Settings().max_image_bytes == OcrConfig().limits.max_bytes
    env = {"OCR_MAX_IMAGE_BYTES": "1000"}
    assert Settings.from_env(env).max_image_bytes == OcrConfig.from_env(env).limits.max_bytes == 1000
    assert Settings.from_env({"OCR_MAX_OBJECT_BYTES": "1000"}).max_image_bytes == 20 * 1024 * 1024  # gone
    for bad in ("lots", "0", "-5"):
        with pytest.raises(ConfigError):
            Settings.from_env({"OCR_MAX_IMAGE_BYTES": bad})


def test_settings_are_read_once_and_frozen():
    import dataclasses

    from ocr_service.settings import get_settings

    settings = get_settings()
    assert get_settings() is settings
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_batch_images = 1  # type: ignore[misc]


def test_both_handlers_share_one_logger_metrics_and_tracer(engine):
    from ocr_service import observability
    from ocr_service.handlers import http_api, object_state, objects

    for module in (http_api, objects):
        assert (module.logger, module.metrics, module.tracer) == (
            observability.logger, observability.metrics, observability.tracer)
    assert object_state.store._max == object_state.SETTINGS.max_image_bytes  # the S3 store refuses bigger uploads


def test_engines_and_stores_implement_their_protocols():
    from ocr_engine.engine import OcrEngine
    from ocr_service.handlers.runtime import Engine
    from ocr_service.s3_store import S3Store
    from ocr_service.store import ResultStore

    assert _public(Engine) == {"run", "model_info"}
    assert _public(Engine) <= _public(OcrEngine) and _public(Engine) <= _public(FakeEngine)
    import inspect

    # a request's direction and detector: the same keywords on the protocol and both engines
    wanted = list(inspect.signature(Engine.run).parameters)
    assert wanted == ["self", "image_bytes", "direction", "detector"]
    assert list(inspect.signature(OcrEngine.run).parameters) == wanted
    assert list(inspect.signature(FakeEngine.run).parameters) == wanted
    assert _public(ResultStore) <= _public(S3Store)


def test_health_reports_the_installed_engines_model_info(engine):
    from ocr_service.handlers import runtime

    assert runtime.get_engine() is engine
    assert runtime.engine_info()["model"] == engine.model_info()
