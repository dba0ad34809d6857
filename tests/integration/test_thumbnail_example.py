"""The thumbnail example end to end: an upload to a bucket triggers the function through a
bucket notification, and the function writes a thumbnail to another bucket with Pillow.
"""

import io
import time
from pathlib import Path

from PIL import Image

from conftest import ROLE, unique_name, zip_folder

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "thumbnail"


def jpeg(size):
    out = io.BytesIO()
    Image.new("RGB", size, color=(20, 120, 220)).save(out, format="JPEG")
    return out.getvalue()


def wait_for_object(s3, bucket, key, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    raise AssertionError(f"s3://{bucket}/{key} did not appear in {timeout} s")


def test_upload_writes_a_thumbnail(server, lam):
    s3 = server.client("s3")
    source = unique_name("photos")
    destination = source + "-thumbnails"
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    function = unique_name("thumbnail")
    arn = lam.create_function(FunctionName=function, Runtime="python3.12", Handler="app.handler",
                              Role=ROLE, Timeout=30, MemorySize=256,
                              Code={"ZipFile": zip_folder(EXAMPLE)})["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=source, NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"Id": "thumbnails", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})

    key = "holiday 2026/beach + sea.jpg"
    s3.put_object(Bucket=source, Key=key, Body=jpeg((1024, 512)), ContentType="image/jpeg")
    s3.put_object(Bucket=source, Key="notes.txt", Body=b"not an image")

    thumbnail = wait_for_object(s3, destination, key)
    assert thumbnail["ContentType"] == "image/jpeg"
    assert thumbnail["Metadata"] == {"source": f"s3://{source}/{key}"}
    image = Image.open(io.BytesIO(thumbnail["Body"].read()))
    assert (image.format, image.size) == ("JPEG", (128, 64))
    # The text file is skipped with a warning, not copied.
    time.sleep(1)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=destination).get("Contents", [])]
    assert keys == [key]
