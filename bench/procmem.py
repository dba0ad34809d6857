"""Memory of process trees, read from /proc. Reading other users' processes needs root.

USS (unique set size) is Private_Clean + Private_Dirty from /proc/PID/smaps_rollup: the memory
that would be freed if the process ended. RSS counts shared pages (the interpreter binary,
shared libraries) in every process that maps them.
"""
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


def environ_value(pid, name):
    """Return the value of variable `name` in a process's environment, or None."""
    prefix = name.encode() + b"="
    for entry in _read(f"/proc/{pid}/environ").split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix):].decode(errors="replace")
    return None


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


def lambent_environment_trees(server_pid, function_name):
    """Return the process trees of the environments of one function under a Lambent server.

    An environment's processes carry AWS_LAMBDA_FUNCTION_NAME and their own Runtime API address
    in AWS_LAMBDA_RUNTIME_API. A tree is rooted at the highest ancestor of the runtime that is
    lambent-init or has the same address, and whose subtree has no other environment's address.
    Whatever sits above it (the server, or a process shared by several environments) is not
    counted.
    """
    parents = parent_pids()
    addresses = {}
    for pid in parents:
        if pid != server_pid:
            address = environ_value(pid, "AWS_LAMBDA_RUNTIME_API")
            if address is not None:
                addresses[pid] = address
    roots = set()
    for pid in addresses:
        if environ_value(pid, "AWS_LAMBDA_FUNCTION_NAME") != function_name:
            continue
        address, root = addresses[pid], pid
        while True:
            parent = parents.get(root, 0)
            if parent in (0, 1, server_pid):
                break
            if command_name(parent) != "lambent-init" and addresses.get(parent) != address:
                break
            if any(addresses.get(member, address) != address
                   for member in subtree(parent, parents)):
                break
            root = parent
        roots.add(root)
    trees = [subtree(root, parents) for root in sorted(roots)]
    # A root inside another root's tree belongs to that environment already.
    return [tree for tree in trees
            if not any(tree[0] in other and tree is not other for other in trees)]


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
