"""S3 through the AWS CLI's high-level commands (cp, sync, ls), a 2 GiB multipart round trip,
and a server killed during an upload."""

import hashlib
import os
import signal
import subprocess
import time

import pytest

from conftest import unique_name

BIG_BYTES = 2 * 1024 * 1024 * 1024


def quiet(*args):
    return [*args, "--only-show-errors", "--no-progress"]


def file_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM line")


def make_sparse(path, size, seed):
    """A sparse file of `size` bytes with 4 KiB of seeded bytes every 64 MiB, so parts differ."""
    import random
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        for offset in range(0, size, 64 * 1024 * 1024):
            f.seek(offset)
            f.write(rng.randbytes(4096))


def test_cp_ls_and_sync(server, tmp_path):
    bucket = unique_name("cli").lower()
    server.aws("s3", "mb", f"s3://{bucket}")
    assert bucket in server.aws("s3", "ls").stdout
    local = tmp_path / "up"
    (local / "nested" / "deeper").mkdir(parents=True)
    files = {"top.txt": b"top\n", "with space.txt": b"space\n",
             "nested/plus+name.bin": os.urandom(1000), "nested/deeper/ünï.txt": b"unicode\n"}
    for name, data in files.items():
        (local / name).write_bytes(data)
    server.aws(*quiet("s3", "cp", str(local / "top.txt"), f"s3://{bucket}/single/top.txt"))
    down = tmp_path / "single.txt"
    server.aws(*quiet("s3", "cp", f"s3://{bucket}/single/top.txt", str(down)))
    assert down.read_bytes() == b"top\n"

    server.aws(*quiet("s3", "sync", str(local), f"s3://{bucket}/tree"))
    listing = server.aws("s3", "ls", "--recursive", f"s3://{bucket}/tree/").stdout
    for name, data in files.items():
        assert f"{len(data):>10} tree/{name}\n" in listing, listing
    top = server.aws("s3", "ls", f"s3://{bucket}/tree/").stdout
    assert "PRE nested/" in top
    assert "top.txt" in top
    assert "plus+name.bin" not in top
    # A second sync with nothing changed uploads nothing.
    again = server.aws("s3", "sync", str(local), f"s3://{bucket}/tree", "--no-progress")
    assert again.stdout.strip() == ""
    (local / "top.txt").write_bytes(b"changed, longer\n")
    changed = server.aws("s3", "sync", str(local), f"s3://{bucket}/tree", "--no-progress")
    assert "top.txt" in changed.stdout
    assert "nested" not in changed.stdout

    back = tmp_path / "back"
    server.aws(*quiet("s3", "sync", f"s3://{bucket}/tree", str(back)))
    for name in files:
        assert (back / name).read_bytes() == (local / name).read_bytes()
    server.aws("s3", "rm", "--recursive", f"s3://{bucket}", "--only-show-errors")
    server.aws("s3", "rb", f"s3://{bucket}")
    assert bucket not in server.aws("s3", "ls").stdout


@pytest.fixture(scope="module")
def big_round_trip(server, tmp_path_factory):
    """Uploads a 2 GiB file with `aws s3 cp` (8 MiB parts) and downloads it back."""
    folder = tmp_path_factory.mktemp("big")
    source = folder / "source.bin"
    make_sparse(source, BIG_BYTES, seed=6)
    bucket = unique_name("big").lower()
    server.aws("s3", "mb", f"s3://{bucket}")
    pid = server.process.pid
    before = vm_hwm_kib(pid)
    server.aws(*quiet("s3", "cp", str(source), f"s3://{bucket}/big.bin"), timeout=300)
    after_upload = vm_hwm_kib(pid)
    target = folder / "target.bin"
    server.aws(*quiet("s3", "cp", f"s3://{bucket}/big.bin", str(target)), timeout=300)
    head = server.client("s3").head_object(Bucket=bucket, Key="big.bin")
    with open(f"/proc/{pid}/maps") as maps:
        sanitized = "libasan" in maps.read()
    result = {"sanitized": sanitized, "source_md5": file_md5(source), "target_md5": file_md5(target),
              "target_size": target.stat().st_size, "etag": head["ETag"],
              "length": head["ContentLength"], "hwm_before": before, "hwm_upload": after_upload}
    source.unlink()
    target.unlink()
    server.aws("s3", "rm", f"s3://{bucket}/big.bin", "--only-show-errors")
    server.aws("s3", "rb", f"s3://{bucket}")
    return result


def test_multipart_round_trip(big_round_trip):
    assert big_round_trip["length"] == BIG_BYTES
    assert big_round_trip["target_size"] == BIG_BYTES
    assert big_round_trip["target_md5"] == big_round_trip["source_md5"]
    # 2 GiB in the CLI's default 8 MiB parts: 256 parts.
    assert big_round_trip["etag"].endswith('-256"')


def test_upload_memory(big_round_trip):
    # Bodies stream to disk, so the server's peak resident memory barely moves.
    growth_mib = (big_round_trip["hwm_upload"] - big_round_trip["hwm_before"]) / 1024
    if big_round_trip["sanitized"]:
        pytest.skip(f"AddressSanitizer's quarantine keeps freed memory resident "
                    f"(peak grew {growth_mib:.0f} MiB)")
    assert growth_mib < 64


def object_files(data_dir):
    folder = data_dir / "objects"
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_sigkill_during_upload_keeps_earlier_objects(fresh_server, tmp_path):
    srv = fresh_server()
    s3 = srv.client("s3")
    bucket = unique_name("kill").lower()
    s3.create_bucket(Bucket=bucket)
    earlier = {f"early/{i}": os.urandom(1000 + i) for i in range(5)}
    for key, data in earlier.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    source = tmp_path / "large.bin"
    with open(source, "wb") as f:
        f.write(os.urandom(200 * 1024 * 1024))
    upload = subprocess.Popen(
        ["/usr/bin/aws", "--endpoint-url", srv.endpoint, *quiet("s3", "cp", str(source),
                                                                 f"s3://{bucket}/large.bin")],
        env=srv.cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        parts = 0
        while time.monotonic() < deadline and parts < 3:
            uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            if uploads:
                parts = len(s3.list_parts(Bucket=bucket, Key="large.bin",
                                          UploadId=uploads[0]["UploadId"]).get("Parts", []))
            time.sleep(0.05)
        assert parts >= 3, "the upload did not get under way"
        srv.process.send_signal(signal.SIGKILL)
        srv.process.wait(timeout=10)
    finally:
        upload.kill()
        upload.wait(timeout=10)
    srv.log_file.close()
    srv.start()
    s3 = srv.client("s3")
    with pytest.raises(s3.exceptions.ClientError) as info:
        s3.head_object(Bucket=bucket, Key="large.bin")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for key, data in earlier.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    # Nothing half-written is left: no temporary files, and one file per object or part.
    assert list((srv.data_dir / "objects" / "tmp").iterdir()) == []
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    stored_parts = sum(len(s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
                           .get("Parts", [])) for u in uploads)
    assert len(object_files(srv.data_dir)) == len(earlier) + stored_parts
    # The interrupted upload can be aborted, which removes its parts' files.
    for u in uploads:
        s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    assert len(object_files(srv.data_dir)) == len(earlier)
