"""How many CPUs this process may really use: its affinity mask, capped by its cgroup's CPU quota.

Why: in a container with a CPU limit (``docker run --cpus``, Kubernetes ``limits.cpu``) both ``os.cpu_count()``
and the affinity mask still count the host's cores. Thread pools sized from them (ONNX Runtime's intra-op
threads, a request's face-plugin threads) then run many threads on a small CFS quota: the container burns its
quota early in each period and is throttled for the rest of it. The quota is read the way the kernel exposes
it, cgroup v2's ``cpu.max`` or v1's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, in this process's own cgroup
and every ancestor up to the mount (a parent's limit binds its children too).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROC_SELF = Path("/proc/self")


@dataclass(frozen=True)
class CgroupMount:
    """A mounted cgroup hierarchy that carries CPU bandwidth: v2, or v1 with the ``cpu`` controller."""

    version: int
    root: str  # the hierarchy's path that the mount shows (mountinfo's fourth field)
    mount_point: Path


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def cpu_mounts(mountinfo: str) -> list[CgroupMount]:
    """The cgroup2 mounts and the v1 mounts of the ``cpu`` controller listed in ``/proc/self/mountinfo``."""
    mounts = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        tail = fields[fields.index("-") + 1:]
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype, options = tail[0], tail[2].split(",")
        if fstype == "cgroup2" or (fstype == "cgroup" and "cpu" in options):
            version = 2 if fstype == "cgroup2" else 1
            mounts.append(CgroupMount(version, _unescape(fields[3]), Path(_unescape(fields[4]))))
    return mounts


def cgroup_paths(cgroup: str) -> dict[int, str]:
    """This process's cgroup path per version, from ``/proc/self/cgroup``: v2's ``0::PATH`` line and the v1
    line whose controllers include ``cpu``."""
    paths: dict[int, str] = {}
    for line in cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            paths.setdefault(2, parts[2])
        elif "cpu" in parts[1].split(","):
            paths.setdefault(1, parts[2])
    return paths


def cgroup_directory(mount: CgroupMount, path: str) -> Path:
    """Where this process's cgroup of ``mount``'s hierarchy lies: its path below the mount's root, or the mount
    itself when the path is outside what the mount shows (a namespaced or bind-mounted view)."""
    relative = os.path.relpath(path, mount.root)
    use_mount = relative == "." or relative.startswith("..")
    directory = mount.mount_point if use_mount else mount.mount_point / relative
    return directory if directory.is_dir() else mount.mount_point


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def quota_of(directory: Path, version: int) -> float | None:
    """One cgroup's own CPU quota in CPUs (quota / period), None when it sets none."""
    if version == 2:
        fields = (_read(directory / "cpu.max") or "max").split()
        quota, period = fields[0], fields[1] if len(fields) > 1 else "100000"
    else:
        quota, period = _read(directory / "cpu.cfs_quota_us") or "-1", _read(directory / "cpu.cfs_period_us") or "0"
    try:
        cpus = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None  # "max", "-1", or a file that could not be read
    return cpus if cpus > 0 else None


def effective_quota(directory: Path, mount_point: Path, version: int) -> float | None:
    """The smallest quota from ``directory`` up to the mount point: the limit this cgroup actually gets."""
    quotas = []
    current = directory
    while True:
        quota = quota_of(current, version)
        if quota is not None:
            quotas.append(quota)
        if current == mount_point or current.parent == current or mount_point not in current.parents:
            break
        current = current.parent
    return min(quotas) if quotas else None


def cpu_quota(proc: Path = PROC_SELF) -> float | None:
    """This process's CPU quota in CPUs (e.g. 1.5), or None without one or where cgroups cannot be read."""
    mountinfo, cgroup = _read(proc / "mountinfo"), _read(proc / "cgroup")
    if mountinfo is None or cgroup is None:
        return None
    paths = cgroup_paths(cgroup)
    quotas = []
    for mount in cpu_mounts(mountinfo):
        path = paths.get(mount.version)
        if path is None:
            continue
        quota = effective_quota(cgroup_directory(mount, path), mount.mount_point, mount.version)
        if quota is not None:
            quotas.append(quota)
    return min(quotas) if quotas else None


def affinity_cpus() -> int:
    """The CPUs this process may be scheduled on (its affinity mask where the platform has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


@lru_cache(maxsize=1)
def available_cpus() -> int:
    """The CPUs this process can keep busy: the affinity mask, capped by the cgroup quota rounded down (a quota
    of 1.5 CPUs keeps one thread busy all the time, not two); at least 1. Read once per process."""
    quota = cpu_quota()
    cpus = affinity_cpus()
    return max(min(cpus, math.floor(quota)) if quota is not None else cpus, 1)


def cap_opencv_threads() -> int | None:
    """Keep OpenCV's own thread pool (resizes, colour conversions) within the CPU limit: OpenCV counts the host's
    cores under a cgroup v1 quota (measured: 2 threads in a 1-CPU cgroup on 2 cores). Returns the new count, or
    None where nothing had to change (no limit below what OpenCV counts, or no OpenCV)."""
    try:
        import cv2
    except ImportError:
        return None
    cpus = available_cpus()
    if cv2.getNumThreads() <= cpus:
        return None
    cv2.setNumThreads(cpus)
    return cpus
