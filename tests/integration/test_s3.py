"""S3 API through boto3: success and error shapes of each operation."""

import base64
import hashlib
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name


@pytest.fixture
def s3(server):
    return server.client("s3")


def new_bucket(s3):
    name = unique_name("bkt").lower()
    s3.create_bucket(Bucket=name)
    return name


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response


def test_bucket_lifecycle(s3):
    name = unique_name("life").lower()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == "/" + name
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    owner = s3.list_buckets()["Owner"]
    assert len(owner["ID"]) == 64
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    # In us-east-1, the owner re-creating a bucket gets 200.
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    code, status, response = error_of(s3.delete_bucket, Bucket=name)
    assert (code, status) == ("BucketNotEmpty", 409)
    assert response["Error"]["BucketName"] == name
    s3.delete_object(Bucket=name, Key="k")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.head_bucket, Bucket=name)[:2] == ("404", 404)
    assert error_of(s3.delete_bucket, Bucket=name)[:2] == ("NoSuchBucket", 404)
    assert error_of(s3.list_objects_v2, Bucket=name)[:2] == ("NoSuchBucket", 404)


def test_bucket_name_rules_and_location(s3):
    for bad in ["ab", "Upper-case", "-start", "end-", "a..b", "192.168.1.1", "xn--abc",
                "a" * 64, "under_score"]:
        code, status, response = error_of(s3.create_bucket, Bucket=bad)
        assert (code, status) == ("InvalidBucketName", 400), bad
        assert bad in response["Error"]["Message"]
    code, status, _ = error_of(s3.create_bucket, Bucket=unique_name("loc").lower(),
                               CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert (code, status) == ("IllegalLocationConstraintException", 400)
    code, status, _ = error_of(s3.create_bucket, Bucket=unique_name("loc").lower(),
                               CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert (code, status) == ("InvalidLocationConstraint", 400)


def test_put_get_head_with_headers_and_metadata(s3):
    bucket = new_bucket(s3)
    body = b"hello, object store\n"
    put = s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=body, ContentType="text/plain",
                        ContentEncoding="identity", ContentDisposition="inline",
                        CacheControl="max-age=60", ContentLanguage="en",
                        Metadata={"color": "blue", "Mixed-Case": "v"})
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    assert put["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key="dir/file.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == etag
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "text/plain"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentLanguage"] == "en"
    assert got["Metadata"] == {"color": "blue", "mixed-case": "v"}
    head = s3.head_object(Bucket=bucket, Key="dir/file.txt")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == etag
    assert abs((head["LastModified"] - datetime.now(timezone.utc)).total_seconds()) < 60
    # An object without a type is served as binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"1")
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"
    # Overwrite replaces the body.
    s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=b"second")
    assert s3.get_object(Bucket=bucket, Key="dir/file.txt")["Body"].read() == b"second"


def test_missing_object_errors(s3):
    bucket = new_bucket(s3)
    code, status, response = error_of(s3.get_object, Bucket=bucket, Key="no/such key")
    assert (code, status) == ("NoSuchKey", 404)
    assert response["Error"]["Key"] == "no/such key"
    assert response["Error"]["Message"] == "The specified key does not exist."
    assert error_of(s3.head_object, Bucket=bucket, Key="nope")[:2] == ("404", 404)
    code, status, _ = error_of(s3.get_object, Bucket=bucket + "-missing", Key="k")
    assert (code, status) == ("NoSuchBucket", 404)
    code, status, _ = error_of(s3.put_object, Bucket=bucket + "-missing", Key="k", Body=b"1")
    assert (code, status) == ("NoSuchBucket", 404)
    # Deleting a missing key succeeds, as S3's does.
    assert s3.delete_object(Bucket=bucket, Key="nope")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_content_md5_checked(s3):
    bucket = new_bucket(s3)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    code, status, _ = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"data",
                               ContentMD5=wrong)
    assert (code, status) == ("BadDigest", 400)
    code, status, _ = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"data",
                               ContentMD5="not-base64!")
    assert (code, status) == ("InvalidDigest", 400)
    right = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=right)
    assert error_of(s3.get_object, Bucket=bucket, Key="missing")[0] == "NoSuchKey"


def test_sha256_mismatch_rejected(server, s3):
    bucket = new_bucket(s3)
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    url = f"{server.endpoint}/{bucket}/sha"
    request = AWSRequest(method="PUT", url=url, data=b"actual body",
                         headers={"x-amz-content-sha256": hashlib.sha256(b"claimed").hexdigest()})
    SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=b"actual body", method="PUT",
                                 headers=dict(prepared.headers))
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(raw, timeout=30)
    assert info.value.code == 400
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in info.value.read()
    assert error_of(s3.head_object, Bucket=bucket, Key="sha")[:2] == ("404", 404)


def test_signature_errors_are_xml(server, s3):
    bucket = new_bucket(s3)
    key, _ = server.credentials()
    bad = server.client("s3", aws_secret_access_key="x" * 40)
    code, status, response = error_of(bad.list_objects_v2, Bucket=bucket)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert response["ResponseMetadata"]["RequestId"]
    unknown = server.client("s3", aws_access_key_id="LKIAUNKNOWNUNKNOWN00")
    code, status, _ = error_of(unknown.list_objects_v2, Bucket=bucket)
    assert (code, status) == ("InvalidAccessKeyId", 403)


def test_range_requests(s3):
    bucket = new_bucket(s3)
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["Body"].read() == body[10:20]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")["Body"].read() == body[1000:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1020-5000")["Body"].read() == body[1020:]
    code, status, response = error_of(s3.get_object, Bucket=bucket, Key="r", Range="bytes=2000-")
    assert (code, status) == ("InvalidRange", 416)
    assert response["Error"]["ActualObjectSize"] == str(len(body))


def test_conditional_requests(s3):
    bucket = new_bucket(s3)
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    code, status, response = error_of(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0000"')
    assert (code, status) == ("PreconditionFailed", 412)
    assert response["Error"]["Condition"] == "If-Match"
    code, status, _ = error_of(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert (code, status) == ("304", 304)
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    assert error_of(s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=future)[1] == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)["ContentLength"] == 11
    code, status, _ = error_of(s3.get_object, Bucket=bucket, Key="c", IfUnmodifiedSince=past)
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=future)["ContentLength"] == 11
    # A matching If-Match wins over a failing If-Unmodified-Since (RFC 7232 section 6).
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag,
                         IfUnmodifiedSince=past)["ContentLength"] == 11
    assert error_of(s3.head_object, Bucket=bucket, Key="c", IfNoneMatch=etag)[1] == 304


def test_response_overrides(s3):
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                        ResponseContentDisposition="attachment; filename=o.json",
                        ResponseCacheControl="no-cache")
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment; filename=o.json"
    assert got["CacheControl"] == "no-cache"


def test_copy_object(s3):
    bucket = new_bucket(s3)
    source_key = "src dir/ä+%.txt"
    s3.put_object(Bucket=bucket, Key=source_key, Body=b"copy me", ContentType="text/plain",
                  Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=bucket, Key="dest", CopySource={"Bucket": bucket, "Key": source_key})
    assert copied["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(b"copy me").hexdigest() + '"'
    got = s3.get_object(Bucket=bucket, Key="dest")
    assert got["Body"].read() == b"copy me"
    assert got["Metadata"] == {"a": "1"}
    assert got["ContentType"] == "text/plain"
    s3.copy_object(Bucket=bucket, Key="dest2", CopySource={"Bucket": bucket, "Key": source_key},
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/csv")
    got = s3.head_object(Bucket=bucket, Key="dest2")
    assert got["Metadata"] == {"b": "2"}
    assert got["ContentType"] == "text/csv"
    code, status, _ = error_of(s3.copy_object, Bucket=bucket, Key="x",
                               CopySource={"Bucket": bucket, "Key": "missing"})
    assert (code, status) == ("NoSuchKey", 404)
    code, status, _ = error_of(s3.copy_object, Bucket=bucket, Key=source_key,
                               CopySource={"Bucket": bucket, "Key": source_key})
    assert (code, status) == ("InvalidRequest", 400)


def test_delete_objects(s3):
    bucket = new_bucket(s3)
    for key in ["a", "b", "c d"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "c d"},
                                                                   {"Key": "never"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "c d", "never"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_list_objects_v2(s3):
    bucket = new_bucket(s3)
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d e/5", "plus+key"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys)
    assert listed["KeyCount"] == len(keys)
    assert listed["Contents"][0]["Size"] == 3
    assert listed["Contents"][0]["StorageClass"] == "STANDARD"
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/", "d e/"]
    assert [o["Key"] for o in top["Contents"]] == ["c", "plus+key"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in under["CommonPrefixes"]] == ["a/b/"]
    # Pages of two, following continuation tokens.
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, Delimiter="/", **kwargs)
        pages += 1
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert sorted(seen) == ["a/", "b/", "c", "d e/", "plus+key"]
    assert pages == 3
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/4")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d e/5", "plus+key"]
    # botocore decodes keys only when it chose encoding-type=url itself; asked for explicitly,
    # the keys come back form-encoded as S3 sends them.
    encoded = s3.list_objects_v2(Bucket=bucket, Prefix="d e/", EncodingType="url")
    assert [o["Key"] for o in encoded["Contents"]] == ["d+e/5"]
    assert encoded["Prefix"] == "d+e/"
    code, status, _ = error_of(s3.list_objects_v2, Bucket=bucket, ContinuationToken="bogus")
    assert (code, status) == ("InvalidArgument", 400)
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=0)["KeyCount"] == 0


def test_list_objects_v1(s3):
    bucket = new_bucket(s3)
    for key in ["x/1", "x/2", "y/1", "z"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    first = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert first["IsTruncated"] is True
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["x/", "y/"]
    assert first["NextMarker"] == "y/"
    rest = s3.list_objects(Bucket=bucket, Delimiter="/", Marker=first["NextMarker"])
    assert [o["Key"] for o in rest["Contents"]] == ["z"]
    assert "CommonPrefixes" not in rest
    marker = s3.list_objects(Bucket=bucket, Marker="x/1")
    assert [o["Key"] for o in marker["Contents"]] == ["x/2", "y/1", "z"]
    assert marker["Contents"][0]["Owner"]["DisplayName"] == "lambent"


def test_multipart_upload(s3):
    bucket = new_bucket(s3)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="video/mp4",
                                        Metadata={"k": "v"})
    upload_id = upload["UploadId"]
    assert upload["Key"] == "mp"
    assert upload["Bucket"] == bucket
    part1 = b"a" * (5 * 1024 * 1024)
    part2 = b"b" * 100
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=part2)["ETag"]
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (1, len(part1), e1), (2, len(part2), e2)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp", upload_id)]
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp",
                               UploadId=upload_id, MultipartUpload={"Parts": [
                                   {"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert (code, status) == ("InvalidPartOrder", 400)
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp",
                               UploadId=upload_id, MultipartUpload={"Parts": [
                                   {"PartNumber": 1, "ETag": e2}]})
    assert (code, status) == ("InvalidPart", 400)
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp",
                               UploadId=upload_id, MultipartUpload={"Parts": [
                                   {"PartNumber": 2, "ETag": e2}, {"PartNumber": 3, "ETag": e2}]})
    assert (code, status) == ("InvalidPart", 400)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                                   {"PartNumber": 2, "ETag": e2}]})
    digests = hashlib.md5(part1).digest() + hashlib.md5(part2).digest()
    expected = '"' + hashlib.md5(digests).hexdigest() + '-2"'
    assert done["ETag"] == expected
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == part1 + part2
    assert got["ETag"] == expected
    assert got["ContentType"] == "video/mp4"
    assert got["Metadata"] == {"k": "v"}
    code, status, _ = error_of(s3.list_parts, Bucket=bucket, Key="mp", UploadId=upload_id)
    assert (code, status) == ("NoSuchUpload", 404)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_multipart_errors_and_abort(s3):
    bucket = new_bucket(s3)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="small", UploadId=upload_id, PartNumber=1, Body=b"x")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="small", UploadId=upload_id, PartNumber=2, Body=b"y")["ETag"]
    code, status, response = error_of(
        s3.complete_multipart_upload, Bucket=bucket, Key="small", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert (code, status) == ("EntityTooSmall", 400)
    assert response["Error"]["MinSizeAllowed"] == str(5 * 1024 * 1024)
    code, status, _ = error_of(s3.upload_part, Bucket=bucket, Key="small", UploadId=upload_id,
                               PartNumber=10001, Body=b"z")
    assert (code, status) == ("InvalidArgument", 400)
    code, status, _ = error_of(s3.upload_part, Bucket=bucket, Key="small", UploadId="nope",
                               PartNumber=1, Body=b"z")
    assert (code, status) == ("NoSuchUpload", 404)
    assert s3.abort_multipart_upload(Bucket=bucket, Key="small",
                                     UploadId=upload_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, _ = error_of(s3.abort_multipart_upload, Bucket=bucket, Key="small",
                               UploadId=upload_id)
    assert (code, status) == ("NoSuchUpload", 404)
    assert error_of(s3.head_object, Bucket=bucket, Key="small")[1] == 404
    # A bucket with only an upload in progress can be deleted; the upload goes with it.
    s3.create_multipart_upload(Bucket=bucket, Key="pending")
    s3.delete_bucket(Bucket=bucket)


def test_unsupported_subresource_is_not_implemented(s3):
    bucket = new_bucket(s3)
    code, status, response = error_of(s3.get_bucket_versioning, Bucket=bucket)
    assert (code, status) == ("NotImplemented", 501)
    assert "versioning" in response["Error"]["Message"]


def test_virtual_hosted_requests(server, s3):
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="vh/key one", Body=b"virtual")
    from urllib.request import Request, urlopen

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    host = f"{bucket}.s3.us-east-1.amazonaws.com"
    url = f"{server.endpoint}/vh/key%20one"
    request = AWSRequest(method="GET", url=url, headers={"Host": host})
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = dict(prepared.headers)
    with urlopen(Request(prepared.url, method="GET", headers=headers), timeout=30) as response:
        assert response.status == 200
        assert response.read() == b"virtual"
    # Unsigned virtual-hosted requests are still S3's: they get S3's XML error.
    raw = Request(f"{server.endpoint}/vh/key%20one", method="GET",
                  headers={"Host": f"{bucket}.s3-us-east-1.localhost"})
    from urllib.error import HTTPError
    with pytest.raises(HTTPError) as info:
        urlopen(raw, timeout=30)
    assert info.value.code == 403
    assert b"<Code>AccessDenied</Code>" in info.value.read()
    # A PUT through the virtual-hosted form lands in the same bucket.
    request = AWSRequest(method="PUT", url=f"{server.endpoint}/vh/put", data=b"put virtually",
                         headers={"Host": host})
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    with urlopen(Request(prepared.url, data=b"put virtually", method="PUT",
                         headers=dict(prepared.headers)), timeout=30) as response:
        assert response.status == 200
    assert s3.get_object(Bucket=bucket, Key="vh/put")["Body"].read() == b"put virtually"


def s3_request(server, method, path, body=b"", headers=None, keep_content_sha256=False):
    """Sends one request signed as boto3 signs S3 requests; returns (status, headers, body).

    With keep_content_sha256, the request's own x-amz-content-sha256 is signed as given;
    botocore's S3 signer would replace it with the body's digest.
    """
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    request = AWSRequest(method=method, url=server.endpoint + path, data=body,
                         headers=headers or {})
    signer = SigV4Auth if keep_content_sha256 else S3SigV4Auth
    signer(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = Request(prepared.url, data=body or None, method=method, headers=dict(prepared.headers))
    try:
        with urlopen(raw, timeout=30) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def test_error_document_shape(server, s3):
    bucket = new_bucket(s3)
    status, headers, body = s3_request(server, "GET", f"/{bucket}/missing%20key")
    assert status == 404
    assert headers["Content-Type"] == "application/xml"
    assert headers["x-amz-request-id"]
    text = body.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<Code>NoSuchKey</Code>" in text
    assert "<Key>missing key</Key>" in text
    assert f"<RequestId>{headers['x-amz-request-id']}</RequestId>" in text


def test_upload_part_copy(s3):
    bucket = new_bucket(s3)
    source = bytes(range(256)) * (6 * 4096)  # 6 MiB
    s3.put_object(Bucket=bucket, Key="source object", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    whole = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source object"})
    assert whole["CopyPartResult"]["ETag"] == '"' + hashlib.md5(source).hexdigest() + '"'
    ranged = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "source object"},
                                 CopySourceRange="bytes=100-199")
    assert ranged["CopyPartResult"]["ETag"] == '"' + hashlib.md5(source[100:200]).hexdigest() + '"'
    code, status, _ = error_of(s3.upload_part_copy, Bucket=bucket, Key="assembled",
                               UploadId=upload_id, PartNumber=3,
                               CopySource={"Bucket": bucket, "Key": "source object"},
                               CopySourceRange=f"bytes=0-{len(source)}")
    assert (code, status) == ("InvalidArgument", 400)
    code, status, _ = error_of(s3.upload_part_copy, Bucket=bucket, Key="assembled",
                               UploadId=upload_id, PartNumber=3,
                               CopySource={"Bucket": bucket, "Key": "missing"})
    assert (code, status) == ("NoSuchKey", 404)
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload_id,
                                 MultipartUpload={"Parts": [
                                     {"PartNumber": 1, "ETag": whole["CopyPartResult"]["ETag"]},
                                     {"PartNumber": 2, "ETag": ranged["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source + source[100:200]


def raw_head_only(server, lines):
    """Sends a request head (no body) and returns the status line and the response text."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"</Error>" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode(errors="replace")
    return text.split("\r\n", 1)[0], text


S3_SCOPE = ("Authorization: AWS4-HMAC-SHA256 Credential=LKIAEXAMPLE/20260101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=00")


def test_declared_body_over_5_gib_rejected(server, s3):
    bucket = new_bucket(s3)
    status, text = raw_head_only(server, [
        f"PUT /{bucket}/huge HTTP/1.1", "Host: 127.0.0.1", S3_SCOPE,
        "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"Content-Length: {5 * 1024 ** 3 + 1}"])
    assert status == "HTTP/1.1 400 Bad Request"
    assert "<Code>EntityTooLarge</Code>" in text
    assert f"<MaxSizeAllowed>{5 * 1024 ** 3}</MaxSizeAllowed>" in text


def test_aws_chunked_unsigned_trailer(server, s3):
    import zlib

    bucket = new_bucket(s3)
    payload = b"hello, chunked world"

    def put(key, checksum):
        body = (f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n" +
                f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode())
        return s3_request(server, "PUT", f"/{bucket}/{key}", body=body, headers={
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(payload)),
            "x-amz-trailer": "x-amz-checksum-crc32"}, keep_content_sha256=True)

    right = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    status, headers, _ = put("chunked", right)
    assert status == 200
    assert headers["ETag"] == '"' + hashlib.md5(payload).hexdigest() + '"'
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == payload
    assert "ContentEncoding" not in got
    wrong = base64.b64encode((zlib.crc32(payload) ^ 1).to_bytes(4, "big")).decode()
    status, _, body = put("bad", wrong)
    assert status == 400
    assert b"<Code>BadDigest</Code>" in body
    assert error_of(s3.head_object, Bucket=bucket, Key="bad")[1] == 404


def test_empty_put_then_put_on_one_connection(server):
    # botocore sends Expect: 100-continue with an empty body too, and misreads the next
    # response on the connection unless the server sent 100 Continue for that request.
    s3 = server.client("s3", read_timeout=10)
    bucket = new_bucket(s3)
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"empty{i}", Body=b"")
        s3.put_object(Bucket=bucket, Key=f"full{i}", Body=b"x" * 10)
    assert s3.get_object(Bucket=bucket, Key="full2")["Body"].read() == b"x" * 10
    assert s3.head_object(Bucket=bucket, Key="empty2")["ContentLength"] == 0


def test_object_tagging_and_subresources(server, s3):
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert error_of(s3.get_object_tagging, Bucket=bucket, Key="missing")[:2] == ("NoSuchKey", 404)
    code, status, _ = error_of(s3.put_object_tagging, Bucket=bucket, Key="k",
                               Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert (code, status) == ("NotImplemented", 501)
    status, _, _ = s3_request(server, "PUT", f"/{bucket}/k?notification", b"<x/>")
    assert status == 501
    # Neither request replaced the object.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_copy_of_a_large_object_with_the_cli(server, s3, tmp_path):
    # Above 8 MiB the CLI copies in parts and reads the source's tags first.
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="big", Body=b"z" * (9 * 1024 * 1024))
    server.aws("s3", "cp", f"s3://{bucket}/big", f"s3://{bucket}/copy", "--only-show-errors")
    assert s3.head_object(Bucket=bucket, Key="copy")["ContentLength"] == 9 * 1024 * 1024
