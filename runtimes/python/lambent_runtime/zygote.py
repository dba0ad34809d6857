"""A pre-started Python runtime that forks execution environments on request.

The server starts one zygote per Python interpreter. It imports the runtime's modules once,
then waits on its control socket (descriptor 3, a SOCK_SEQPACKET Unix socket) for requests.
Each environment is a tree of forks that isolates itself the way the exec path does
(``src/lambent/sandbox/spawner.cpp``) before it runs ``loop.main`` for the function:

- the first child creates new mount, PID, IPC and UTS namespaces and forks the environment's
  pid 1. It exits when the environment is handed over, and because the server is a child
  subreaper, pid 1 then becomes the server's child, which the server watches and kills as on
  the exec path;
- pid 1 joins the cgroups (the first child does, before the fork, when there is no spare).
  It mounts /var/task, /var/runtime, /etc/passwd, /etc/group, /tmp and /proc and forks the
  runtime process. Then it replaces itself with lambent-init, which reaps orphans and exits
  with the runtime's status;
- the runtime process redirects stdout and stderr into the output pipe that came with the
  request, drops to the environment's uid, closes every other descriptor, sets rlimits and
  the function's environment variables, then runs the runtime loop.

A prepare request (``{"kind": "prepare", ...}``) forks such a tree ahead of time as a Spare,
which the next spawn request with ``"spare": true`` uses. The namespace, mount and credential
calls come from liblambent_zygote.so through ctypes, because Python 3.11 has no os.unshare or
os.mount.

A spawn request is one JSON message, with the write end of the environment's output pipe
attached as SCM_RIGHTS. The reply is one of:

- ``{"pid": N}``: pid 1 of the environment, in the server's PID namespace;
- ``{"step": S, "errno": E, "pid": N}``: set-up failed at step S, a value of ``Step`` in
  ``src/lambent/sandbox/isolation.h``. pid is 0 when no pid 1 is left for the server to reap;
- ``{"spare": N}``: the pid of a prepared spare's first child;
- ``{"error": TEXT}``: the zygote could not read or serve the request.

The zygote has no threads, and every descriptor it opens is close-on-exec and closed in the
children. ``os.fork`` runs the at-fork hooks, so the ``random`` module is reseeded in every
child. ``uuid.uuid4``, ``secrets`` and ``os.urandom`` read the kernel's random source on
each call. The hash seed of str and bytes is fixed when the interpreter starts, so every
environment of one zygote shares it.
"""

import ctypes
import gc
import json
import os
import select
import struct
import sys
import time

import _socket

from . import loop

CONTROL_FD = 3
MAX_REQUEST_BYTES = 1 << 20

# Values of Step in src/lambent/sandbox/isolation.h.
STEP_CGROUP = 1
STEP_FORK = 9
STEP_CHDIR = 13
STEP_EXEC = 14
STEP_UNSHARE = 15
STEP_EXEC_INIT = 16

# Records on a spawn's report pipe: (kind, a, b) as three native ints.
_RECORD = struct.Struct("iii")
_RECORD_PID = 1  # a: pid 1 of the environment
_RECORD_FAILURE = 2  # a: step, b: errno
_RECORD_REAPED = 3  # a: pid 1, which its parent reaped, so the server must not wait for it

# The maximum time a spawn may take before the zygote gives up on it, in seconds. The exec
# path waits as long.
SPAWN_TIMEOUT_SECONDS = 30.0

_library = None


def _load_library(path):
    library = ctypes.CDLL(path)
    library.lambent_join_cgroup.argtypes = [ctypes.c_char_p]
    library.lambent_unshare_namespaces.argtypes = []
    library.lambent_mount_sandbox.argtypes = [ctypes.c_char_p] * 5 + [
        ctypes.POINTER(ctypes.c_int)
    ]
    library.lambent_drop_credentials.argtypes = [
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_int),
    ]
    library.lambent_set_runtime_limits.argtypes = [ctypes.c_ulonglong]
    library.lambent_set_runtime_limits.restype = None
    library.lambent_close_all_except.argtypes = [ctypes.c_int]
    library.lambent_close_all_except.restype = None
    library.lambent_exec_init.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    library.lambent_die_with_parent.argtypes = [ctypes.c_int]
    return library


def _fail(report_fd, step, error):
    """Report a failed set-up step to the zygote and end this child."""
    try:
        os.write(report_fd, _RECORD.pack(_RECORD_FAILURE, step, error or 0))
    finally:
        os._exit(127)


def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _run_runtime(request, output_fd, report_fd):
    """Become the environment's runtime process and run the runtime loop; never returns."""
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    step = ctypes.c_int(0)
    error = _library.lambent_drop_credentials(request["uid"], request["gid"], ctypes.byref(step))
    if error:
        _fail(report_fd, step.value, error)
    try:
        os.chdir(request["chdir"])
    except OSError as exc:
        _fail(report_fd, STEP_CHDIR, exc.errno)
    _library.lambent_close_all_except(report_fd)
    _library.lambent_set_runtime_limits(request["address_space_limit"])

    os.environ.clear()
    for entry in request["env"]:
        key, _, value = entry.partition("=")
        os.environ[key] = value
    sys.argv = _script_argv(request["argv"])
    # The report pipe reaches end-of-file here, which signals the zygote that set-up is done,
    # as exec does on the exec path.
    os.close(report_fd)

    status = 1
    try:
        status = loop.main()
    except SystemExit as exc:
        status = _exit_status(exc)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        # What interpreter shutdown would do for an exec'd runtime: join non-daemon threads
        # and run atexit handlers.
        try:
            threading = sys.modules.get("threading")
            if threading is not None:
                threading._shutdown()
            import atexit

            atexit._run_exitfuncs()
            loop.flush_stdio()
        finally:
            os._exit(status if isinstance(status, int) else 1)


def _script_argv(argv):
    """Return sys.argv for an interpreter command line: the script and its arguments."""
    for index in range(1, len(argv)):
        if not argv[index].startswith("-"):
            return list(argv[index:])
    return [""]


def _run_environment_init(request, output_fd, report_fd, init_fd):
    """Become pid 1 of the environment: mount, fork the runtime, exec lambent-init."""
    if request["namespaces"]:
        step = ctypes.c_int(0)
        error = _library.lambent_mount_sandbox(
            request["code_dir"].encode(),
            request["runtime_dir"].encode(),
            request["passwd_file"].encode(),
            request["group_file"].encode(),
            request["tmp_options"].encode(),
            ctypes.byref(step),
        )
        if error:
            _fail(report_fd, step.value, error)
    os.setsid()
    try:
        runtime = os.fork()
    except OSError as exc:
        _fail(report_fd, STEP_FORK, exc.errno)
    if runtime == 0:
        _run_runtime(request, output_fd, report_fd)

    os.close(output_fd)
    for fd in (0, 1, 2):
        os.close(fd)
    if init_fd >= 0:
        error = _library.lambent_exec_init(init_fd, request["init_path"].encode(), runtime)
        _fail(report_fd, STEP_EXEC_INIT, error)
    # Without lambent-init this process stays pid 1. Its copy of the report pipe must close
    # here, as exec would have closed it.
    os.close(report_fd)
    _reap_until(runtime)


def _reap_until(runtime):
    """Reap children, as pid 1 without lambent-init, and exit with the runtime's status."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == runtime:
            if os.WIFEXITED(status):
                os._exit(os.WEXITSTATUS(status))
            os._exit(128 + os.WTERMSIG(status))


def _isolate_first_child(request, report_fd):
    """Join the request's cgroups and create the namespaces, or report the failure and exit."""
    for procs in request["cgroup_procs"]:
        error = _library.lambent_join_cgroup(procs.encode())
        if error:
            _fail(report_fd, STEP_CGROUP, error)
    if request["namespaces"]:
        error = _library.lambent_unshare_namespaces()
        if error:
            _fail(report_fd, STEP_UNSHARE, error)


def _run_first_child(request, output_fd, report_fd, init_fd):
    """Join the cgroups, create the namespaces, fork pid 1, report its pid and exit."""
    _isolate_first_child(request, report_fd)
    _fork_environment(request, output_fd, report_fd, init_fd)


def _fork_environment(request, output_fd, report_fd, init_fd):
    """Fork pid 1 of the environment, report its pid and exit."""
    try:
        pid = os.fork()
    except OSError as exc:
        _fail(report_fd, STEP_FORK, exc.errno)
    if pid == 0:
        _run_environment_init(request, output_fd, report_fd, init_fd)
    os.write(report_fd, _RECORD.pack(_RECORD_PID, pid, 0))
    os._exit(0)


def _in_child(function, *args):
    """Run function in a forked child, which exits instead of returning to the loop."""
    try:
        function(*args)
    except BaseException:
        try:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(127)
    os._exit(127)


def _read_report(report_fd):
    """Read the report pipe to end-of-file and return (pid, step, errno).

    pid is -1 when the report records that the environment's pid 1 was reaped already.
    """
    pid, step, error = 0, 0, 0
    data = b""
    deadline = time.monotonic() + SPAWN_TIMEOUT_SECONDS
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return pid, STEP_EXEC, 110  # ETIMEDOUT
        ready, _, _ = select.select([report_fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(report_fd, 4096)
        if not chunk:
            return pid, step, error
        data += chunk
        while len(data) >= _RECORD.size:
            kind, a, b = _RECORD.unpack_from(data)
            data = data[_RECORD.size:]
            if kind == _RECORD_PID:
                pid = a
            elif kind == _RECORD_REAPED:
                pid = -1
            elif kind == _RECORD_FAILURE and step == 0:
                step, error = a, b


class Spare:
    """An environment forked ahead of its spawn request, waiting in its cgroups and namespaces.

    Joining a cgroup waits for an RCU grace period in the kernel (about 10 ms measured on this
    project's cgroup v1 build hosts), and each fork of the interpreter costs a millisecond or
    more. So the server requests a spare after each spawn, and the next spawn skips all that.
    A spare is three processes:

    - the first child, which created the namespaces and stays the parent of pid 1, so a spare
      that is never used is reaped by the zygote, not by the server;
    - pid 1, which joined the cgroups and waits on the channel for the spawn request. It then
      mounts, hands the request to the runtime process, signals the first child to exit (pid 1
      becomes the server's child) and execs lambent-init;
    - the runtime process, which waits for the request from pid 1.

    Closing the channel ends an unused spare: pid 1 exits, which ends the namespace.
    """

    def __init__(self, pid, environment_pid, channel, report_fd):
        self.pid = pid  # the first child
        self.environment_pid = environment_pid  # pid 1, in the server's PID namespace
        self.channel = channel  # the zygote's end of a socket pair to pid 1
        self.report_fd = report_fd

    def close(self):
        """Close the zygote's descriptors, which ends the spare unless it was used."""
        self.channel.close()
        os.close(self.report_fd)


def _run_spare_runtime(channel, report_fd):
    """Wait for the spawn request from pid 1, then become the runtime process."""
    received = _receive(channel)
    if received is None:
        os._exit(0)
    request, output_fd = received
    _run_runtime(request, output_fd, report_fd)


def _run_spare_init(prepare_request, channel, go_fd, report_fd, init_fd):
    """Run as pid 1 of a spare: join the cgroups, fork the runtime, wait for the request."""
    for procs in prepare_request["cgroup_procs"]:
        error = _library.lambent_join_cgroup(procs.encode())
        if error:
            _fail(report_fd, STEP_CGROUP, error)
    os.setsid()
    init_end, runtime_end = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        runtime = os.fork()
    except OSError as exc:
        _fail(report_fd, STEP_FORK, exc.errno)
    if runtime == 0:
        init_end.close()
        channel.close()
        os.close(go_fd)
        _run_spare_runtime(runtime_end, report_fd)
    runtime_end.close()

    received = _receive(channel)
    if received is None:
        os._exit(0)
    request, output_fd = received
    if request["namespaces"]:
        step = ctypes.c_int(0)
        error = _library.lambent_mount_sandbox(
            request["code_dir"].encode(),
            request["runtime_dir"].encode(),
            request["passwd_file"].encode(),
            request["group_file"].encode(),
            request["tmp_options"].encode(),
            ctypes.byref(step),
        )
        if error:
            _fail(report_fd, step.value, error)
    # The first child exits now, so this process becomes the server's child.
    os.write(go_fd, b"1")
    os.close(go_fd)
    data = json.dumps(request).encode()
    fds = struct.pack("i", output_fd)
    init_end.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    os.close(output_fd)
    for fd in (0, 1, 2):
        os.close(fd)
    if init_fd >= 0:
        error = _library.lambent_exec_init(init_fd, request["init_path"].encode(), runtime)
        _fail(report_fd, STEP_EXEC_INIT, error)
    # Without lambent-init this process stays pid 1. Its copy of the report pipe must close
    # here, as exec would have closed it.
    os.close(report_fd)
    _reap_until(runtime)


def _run_spare_first_child(prepare_request, channel, report_fd, init_fd):
    """Create the namespaces, fork the spare's pid 1 and stay its parent until it is used."""
    if prepare_request["namespaces"]:
        error = _library.lambent_unshare_namespaces()
        if error:
            _fail(report_fd, STEP_UNSHARE, error)
    go_read, go_write = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        _fail(report_fd, STEP_FORK, exc.errno)
    if pid == 0:
        os.close(go_read)
        _run_spare_init(prepare_request, channel, go_write, report_fd, init_fd)
    os.close(go_write)
    channel.close()
    os.write(report_fd, _RECORD.pack(_RECORD_PID, pid, 0))
    if os.read(go_read, 1):
        os._exit(0)
    # pid 1 exited unused or failed before it was handed over: reap it here, so it never
    # becomes a zombie of the server.
    os.waitpid(pid, 0)
    try:
        os.write(report_fd, _RECORD.pack(_RECORD_REAPED, pid, 0))
    except BrokenPipeError:
        pass  # The zygote is gone, so no spawn waits for this report.
    os._exit(0)


def prepare_spare(request, init_fd):
    """Fork a Spare for the cgroups and namespaces of `request`."""
    report_read, report_write = os.pipe()
    zygote_end, spare_end = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
    except OSError:
        os.close(report_read)
        os.close(report_write)
        zygote_end.close()
        spare_end.close()
        raise
    if pid == 0:
        os.close(report_read)
        zygote_end.close()
        _in_child(_run_spare_first_child, request, spare_end, report_write, init_fd)
    os.close(report_write)
    spare_end.close()
    spare = Spare(pid, 0, zygote_end, report_read)
    # The first record is pid 1's pid, or the failure to create the namespaces.
    ready, _, _ = select.select([report_read], [], [], SPAWN_TIMEOUT_SECONDS)
    record = os.read(report_read, _RECORD.size) if ready else b""
    if len(record) == _RECORD.size:
        kind, a, _ = _RECORD.unpack(record)
        if kind == _RECORD_PID:
            spare.environment_pid = a
            return spare
    discard_spare(spare)
    raise OSError("the spare did not start its pid 1")


def discard_spare(spare):
    """End an unused Spare and reap its first child, which reaps pid 1."""
    spare.close()
    os.waitpid(spare.pid, 0)


def spawn_with_spare(spare, request, output_fd):
    """Hand a spawn request to a Spare and return the reply for the server."""
    try:
        data = json.dumps(request).encode()
        fds = struct.pack("i", output_fd)
        spare.channel.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    except OSError:
        # A spare that failed to set up has written the failed step to the report and exited.
        pass
    try:
        pid, step, error = _read_report(spare.report_fd)
        os.waitpid(spare.pid, 0)
    finally:
        spare.close()
    if pid == 0:
        pid = spare.environment_pid
    return _reply(max(pid, 0), step, error)


def _reply(pid, step, error):
    if step:
        return {"step": step, "errno": error, "pid": pid}
    if pid == 0:
        return {"step": STEP_FORK, "errno": 0, "pid": 0}
    return {"pid": pid}


def spawn(request, output_fd, init_fd):
    """Start one environment and return the reply for the server."""
    report_read, report_write = os.pipe()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            first = os.fork()
        except OSError as exc:
            return {"step": STEP_FORK, "errno": exc.errno, "pid": 0}
        if first == 0:
            os.close(report_read)
            _in_child(_run_first_child, request, output_fd, report_write, init_fd)
        os.close(report_write)
        report_write = -1
        pid, step, error = _read_report(report_read)
        os.waitpid(first, 0)
    finally:
        os.close(report_read)
        if report_write >= 0:
            os.close(report_write)
    return _reply(pid, step, error)


def _receive(control):
    """Return (request, output_fd) from the next message, or None at end-of-file."""
    fds_size = _socket.CMSG_SPACE(4)
    data, ancillary, flags, _ = control.recvmsg(MAX_REQUEST_BYTES, fds_size,
                                                _socket.MSG_CMSG_CLOEXEC)
    if not data:
        return None
    output_fd = -1
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(payload) >= 4:
            output_fd = struct.unpack_from("i", payload)[0]
    return json.loads(data), output_fd


def serve():
    """Serve spawn requests until the control socket closes; return the exit status."""
    global _library
    library_path = os.environ.pop("LAMBENT_ZYGOTE_LIBRARY", "")
    parent = int(os.environ.pop("LAMBENT_ZYGOTE_PARENT", "0"))
    _library = _load_library(library_path)
    if _library.lambent_die_with_parent(parent) != 0:
        return 1
    # Descriptors the server left open without close-on-exec must not reach environments.
    _library.lambent_close_all_except(CONTROL_FD)
    os.set_inheritable(CONTROL_FD, False)
    control = _socket.socket(fileno=CONTROL_FD)
    init_fds = {}
    spare = None

    def open_init(path):
        if path and path not in init_fds:
            init_fds[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        return init_fds.get(path, -1)

    # Objects that exist now are never collected, so the collector does not touch (and copy)
    # the pages the children share with the zygote.
    gc.freeze()
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    while True:
        received = _receive(control)
        if received is None:
            return 0
        request, output_fd = received
        try:
            if request.get("kind") == "prepare":
                if spare is not None:
                    discard_spare(spare)
                    spare = None
                spare = prepare_spare(request, open_init(request.get("init_path", "")))
                reply = {"spare": spare.pid}
            elif output_fd < 0:
                reply = {"error": "the request carried no output descriptor"}
            elif request.get("spare"):
                if spare is None:
                    reply = {"error": "no spare was prepared"}
                else:
                    used, spare = spare, None
                    reply = spawn_with_spare(used, request, output_fd)
            else:
                reply = spawn(request, output_fd, open_init(request.get("init_path", "")))
        except (KeyError, TypeError, ValueError, OSError) as exc:
            reply = {"error": f"spawn request failed: {exc!r}"}
        finally:
            if output_fd >= 0:
                os.close(output_fd)
        control.send(json.dumps(reply).encode())
