"""Reports what the sandbox lets a handler see and do."""

import errno
import os
import socket


def _processes():
    processes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                processes[int(entry)] = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            pass  # the process exited between listdir and open
    return processes


def _write_error(path):
    try:
        with open(path, "w") as f:
            f.write("x")
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    return None


def _list_error(path):
    try:
        os.listdir(path)
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    return None


def handler(event, context):
    tmp_stats = os.statvfs("/tmp")
    seen = [name for name in event.get("look_for", []) if os.path.exists(os.path.join("/tmp", name))]
    if event.get("write"):
        with open(os.path.join("/tmp", event["write"]), "w") as f:
            f.write("written by " + context.function_name)
    return {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "processes": _processes(),
        "task_write_error": _write_error("/var/task/new-file"),
        "runtime_write_error": _write_error("/var/runtime/new-file"),
        "tmp_write_error": _write_error("/tmp/probe"),
        "tmp_bytes": tmp_stats.f_blocks * tmp_stats.f_frsize,
        "tmp_seen": seen,
        "list_errors": {path: _list_error(path) for path in event.get("try_list", [])},
    }
