"""Memory of process trees, read from /proc. Reading other users' processes needs root.

USS (unique set size) is Private_Clean + Private_Dirty from /proc/PID/smaps_rollup: the memory
that would be freed if the process ended. RSS counts shared pages (the interpreter binary,
shared libraries) in every process that maps them.
"""
import os
import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TreeMemory:
    uss_kb: int = 0
    private_dirty_kb: int = 0
    rss_kb: int = 0
    processes: int = 0


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def parent_pids():
    """Return {pid: parent pid} for every process visible in /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _read(entry / "stat")
        if not stat:
            continue
        # The command name in field 2 may contain spaces and parentheses, so split after it.
        fields = stat[stat.rfind(b")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def command_name(pid):
    return _read(f"/proc/{pid}/comm").decode(errors="replace").strip()


def executable_name(pid):
    """Return the file name of a process's executable, or "" when it cannot be read."""
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name
    except OSError:
        return ""


def subtree(root, parents):
    """Return root and every descendant of it."""
    children = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def tree_memory(pids):
    """Sum USS and RSS over pids. A process that ended meanwhile counts as zero."""
    total = TreeMemory()
    for pid in pids:
        fields = {}
        for line in _read(f"/proc/{pid}/smaps_rollup").decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1])
        if not fields:
            continue
        total.uss_kb += fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        total.private_dirty_kb += fields.get("Private_Dirty", 0)
        total.rss_kb += fields.get("Rss", 0)
        total.processes += 1
    return total


def lambent_environment_trees(server_pid, interpreter_prefix):
    """Return the process trees of a Lambent server's environments whose runtime executable
    name starts with interpreter_prefix ("python", "node").

    Each environment is a tree rooted at lambent-init, its pid 1, below the server. That holds
    for exec'd environments and for those forked from a zygote, which the server adopts as a
    child subreaper. A forked runtime keeps the zygote's /proc/PID/environ, so the function name
    cannot be read from there, and the interpreter is what tells runtimes apart.
    """
    parents = parent_pids()
    trees = []
    for pid in subtree(server_pid, parents):
        if command_name(pid) != "lambent-init" or command_name(parents[pid]) == "lambent-init":
            continue
        tree = subtree(pid, parents)
        if any(executable_name(member).startswith(interpreter_prefix) for member in tree[1:]):
            trees.append(tree)
    return trees


def child_trees_with(parent_pid, command_prefix):
    """Return the subtrees under parent_pid's direct children that contain a process whose
    command name starts with command_prefix (serverless-offline's Python instances are a shell
    and its python3 child, one pair per instance)."""
    parents = parent_pids()
    trees = []
    for pid, parent in parents.items():
        if parent != parent_pid:
            continue
        tree = subtree(pid, parents)
        if any(command_name(member).startswith(command_prefix) for member in tree):
            trees.append(tree)
    return trees


def median_memory(trees):
    """Return the median of each figure over the trees (one per environment or instance)."""
    memories = [tree_memory(tree) for tree in trees]
    return TreeMemory(
        uss_kb=statistics.median(m.uss_kb for m in memories),
        private_dirty_kb=statistics.median(m.private_dirty_kb for m in memories),
        rss_kb=statistics.median(m.rss_kb for m in memories),
        processes=statistics.median(m.processes for m in memories))
