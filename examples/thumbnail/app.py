"""Thumbnail maker: for each image uploaded to the source bucket, writes a thumbnail of at most
THUMBNAIL_SIZE pixels on its longer side to the destination bucket under the same key.

The function is the target of the source bucket's ObjectCreated notifications, so it receives
S3 events: object keys arrive URL-encoded (a space as "+"). The destination bucket comes from
the DESTINATION_BUCKET environment variable, or is the source bucket's name with
"-thumbnails" added. Writing to another bucket keeps the function from triggering itself.
"""

import io
import logging
import os
import urllib.parse

import boto3
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

THUMBNAIL_SIZE = int(os.environ.get("THUMBNAIL_SIZE", "128"))
# Larger images are rejected rather than decoded, so a huge upload cannot exhaust memory.
MAX_SOURCE_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}

# One client per environment, created on the first event. AWS_ENDPOINT_URL and the credentials
# come from the environment Lambent gives the function.
_s3 = None


def s3_client():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    return _s3


def make_thumbnail(data, size=THUMBNAIL_SIZE):
    """Return (thumbnail bytes, content type) for an image given as bytes.

    The aspect ratio is kept. The image keeps its format when it is JPEG, PNG, GIF or WebP;
    any other readable format becomes PNG. Raises ValueError for data that is not an image.
    """
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"not a readable image: {error}") from error
    source_format = image.format if image.format in FORMATS else "PNG"
    image.thumbnail((size, size))
    if source_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=source_format)
    return out.getvalue(), FORMATS[source_format]


def destination_for(bucket):
    return os.environ.get("DESTINATION_BUCKET") or f"{bucket}-thumbnails"


def handler(event, context):
    written = []
    skipped = []
    for record in event.get("Records", []):
        if not record.get("eventName", "").startswith("ObjectCreated:"):
            continue
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        destination = destination_for(bucket)
        if destination == bucket:
            raise ValueError(f"the destination bucket {destination} is the source bucket")
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            thumbnail, content_type = make_thumbnail(body)
        except ValueError as error:
            logger.warning("skipped s3://%s/%s: %s", bucket, key, error)
            skipped.append(key)
            continue
        s3_client().put_object(Bucket=destination, Key=key, Body=thumbnail,
                               ContentType=content_type,
                               Metadata={"source": f"s3://{bucket}/{key}"})
        logger.info("wrote s3://%s/%s (%d bytes) from s3://%s/%s", destination, key,
                    len(thumbnail), bucket, key)
        written.append(key)
    return {"written": written, "skipped": skipped}
