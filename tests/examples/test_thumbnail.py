"""Tests of the thumbnail example's image code (examples/thumbnail/app.py), imported directly.

The whole flow, an upload that triggers the function through a bucket notification, is tested
against the real server in tests/integration/test_thumbnail_example.py.
"""

import importlib.util
import io
from pathlib import Path

import pytest
from PIL import Image

EXAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "examples" / "thumbnail"


def load_example():
    spec = importlib.util.spec_from_file_location("thumbnail_app", EXAMPLE_DIRECTORY / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load_example()


def image_bytes(size, image_format, mode="RGB"):
    out = io.BytesIO()
    Image.new(mode, size, color=(200, 30, 90) if mode == "RGB" else 0).save(out, format=image_format)
    return out.getvalue()


@pytest.mark.parametrize("image_format,content_type", [
    ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif")])
def test_thumbnail_keeps_format_and_aspect_ratio(image_format, content_type):
    data, kind = app.make_thumbnail(image_bytes((640, 320), image_format), size=128)
    thumbnail = Image.open(io.BytesIO(data))
    assert kind == content_type
    assert thumbnail.format == image_format
    assert thumbnail.size == (128, 64)


def test_small_image_is_not_enlarged():
    data, _ = app.make_thumbnail(image_bytes((40, 30), "PNG"), size=128)
    assert Image.open(io.BytesIO(data)).size == (40, 30)


def test_other_formats_become_png():
    data, kind = app.make_thumbnail(image_bytes((300, 300), "BMP"), size=100)
    assert kind == "image/png"
    assert Image.open(io.BytesIO(data)).size == (100, 100)


def test_data_that_is_not_an_image_is_rejected():
    with pytest.raises(ValueError, match="not a readable image"):
        app.make_thumbnail(b"plain text, not an image")


def test_destination_defaults_to_suffixed_bucket(monkeypatch):
    monkeypatch.delenv("DESTINATION_BUCKET", raising=False)
    assert app.destination_for("photos") == "photos-thumbnails"
    monkeypatch.setenv("DESTINATION_BUCKET", "small")
    assert app.destination_for("photos") == "small"


def test_handler_ignores_removal_events():
    event = {"Records": [{"eventName": "ObjectRemoved:Delete",
                          "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}
    assert app.handler(event, None) == {"written": [], "skipped": []}
