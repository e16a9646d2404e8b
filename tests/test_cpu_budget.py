"""A container's CPU limit caps the threads: cgroup v1 and v2 as the kernel shows them, read from fake trees, and
from a real cgroup with a quota where this machine lets the tests make one."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from facecore import cpu_budget
from facecore.cpu_budget import (
    CgroupMount,
    affinity_cpus,
    cgroup_directory,
    cgroup_paths,
    cpu_mounts,
    cpu_quota,
    effective_quota,
)

V2_MOUNT = "30 24 0:26 {root} {point} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
V1_CPU_MOUNT = "35 30 0:31 {root} {point} rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
V1_CPUSET_MOUNT = "36 30 0:32 / {point} rw,nosuid shared:10 - cgroup cgroup rw,cpuset\n"
DISK = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"


def fake_proc(tmp_path: Path, mountinfo: str, cgroup: str) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "mountinfo").write_text(mountinfo)
    (proc / "cgroup").write_text(cgroup)
    return proc


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("__", ".")).write_text(text + "\n")
    return directory


def test_a_v2_container_sees_its_own_cgroup_at_the_mount(tmp_path):
    mount = write(tmp_path / "cgroup", cpu__max="200000 100000")
    proc = fake_proc(tmp_path, DISK + V2_MOUNT.format(root="/", point=mount), "0::/\n")
    assert cpu_quota(proc) == 2.0


def test_a_parents_limit_binds_its_children(tmp_path):
    mount = write(tmp_path / "cgroup", cpu__max="max 100000")
    write(mount / "kubepods" / "pod1", cpu__max="150000 100000")
    write(mount / "kubepods" / "pod1" / "ctr", cpu__max="max 100000")
    proc = fake_proc(tmp_path, V2_MOUNT.format(root="/", point=mount), "0::/kubepods/pod1/ctr\n")
    assert cpu_quota(proc) == 1.5


def test_no_limit_anywhere_is_no_quota(tmp_path):
    mount = write(tmp_path / "cgroup", cpu__max="max 100000")
    write(mount / "user.slice", cpu__max="max 100000")
    proc = fake_proc(tmp_path, V2_MOUNT.format(root="/", point=mount), "0::/user.slice\n")
    assert cpu_quota(proc) is None


def test_cgroup_v1_reads_the_cfs_quota_of_the_cpu_controller(tmp_path):
    mount = write(tmp_path / "cpu,cpuacct", cpu__cfs_quota_us="-1", cpu__cfs_period_us="100000")
    write(mount / "docker" / "abc", cpu__cfs_quota_us="50000", cpu__cfs_period_us="100000")
    cpuset = write(tmp_path / "cpuset", cpu__cfs_quota_us="10000", cpu__cfs_period_us="100000")  # not the cpu one
    mountinfo = DISK + V1_CPU_MOUNT.format(root="/", point=mount) + V1_CPUSET_MOUNT.format(point=cpuset)
    proc = fake_proc(tmp_path, mountinfo, "5:cpuset:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/\n")
    assert cpu_quota(proc) == 0.5


def test_a_bind_mounted_v1_view_is_the_containers_own_cgroup(tmp_path):
    mount = write(tmp_path / "cpu", cpu__cfs_quota_us="300000", cpu__cfs_period_us="100000")
    proc = fake_proc(tmp_path, V1_CPU_MOUNT.format(root="/docker/abc", point=mount), "4:cpu,cpuacct:/docker/abc\n")
    assert cpu_quota(proc) == 3.0


def test_a_v1_quota_of_minus_one_is_no_quota(tmp_path):
    mount = write(tmp_path / "cpu", cpu__cfs_quota_us="-1", cpu__cfs_period_us="100000")
    proc = fake_proc(tmp_path, V1_CPU_MOUNT.format(root="/", point=mount), "4:cpu,cpuacct:/\n")
    assert cpu_quota(proc) is None


@pytest.mark.parametrize("cpu_max", ["", "garbage here", "100000 0", "-5 100000"])
def test_unreadable_or_odd_files_mean_no_quota(tmp_path, cpu_max):
    mount = write(tmp_path / "cgroup", cpu__max=cpu_max)
    proc = fake_proc(tmp_path, V2_MOUNT.format(root="/", point=mount), "0::/\n")
    assert cpu_quota(proc) is None


def test_no_cgroup_files_at_all_mean_no_quota(tmp_path):
    assert cpu_quota(tmp_path / "nothing") is None
    proc = fake_proc(tmp_path, DISK, "0::/\n")  # no cgroup mount
    assert cpu_quota(proc) is None


def test_a_mount_point_with_a_space_is_unescaped(tmp_path):
    mount = write(tmp_path / "cg roup", cpu__max="100000 100000")
    line = V2_MOUNT.format(root="/", point=str(mount).replace(" ", "\\040"))
    assert cpu_mounts(line) == [CgroupMount(2, "/", mount)]


def test_a_path_outside_the_mounts_view_falls_back_to_the_mount(tmp_path):
    mount = CgroupMount(1, "/docker/abc", write(tmp_path / "cpu"))
    assert cgroup_directory(mount, "/docker/abcdef") == mount.mount_point
    assert cgroup_directory(mount, "/elsewhere") == mount.mount_point
    assert cgroup_directory(CgroupMount(2, "/", mount.mount_point), "/gone") == mount.mount_point  # no such folder


def test_cgroup_lines_are_read_per_version():
    text = "12:cpuset:/a\n4:cpu,cpuacct:/b\n0::/c\nbroken line\n"
    assert cgroup_paths(text) == {1: "/b", 2: "/c"}


def test_the_walk_up_stops_at_the_mount(tmp_path):
    write(tmp_path, cpu__max="10000 100000")  # above the mount: not this hierarchy's
    mount = write(tmp_path / "cgroup", cpu__max="max 100000")
    inner = write(mount / "a", cpu__max="400000 100000")
    assert effective_quota(inner, mount, 2) == 4.0


@pytest.mark.parametrize(("quota", "affinity", "expected"), [(None, 8, 8), (2.0, 8, 2), (1.5, 8, 1), (0.5, 8, 1),
                                                             (16.0, 4, 4)])
def test_available_cpus_is_the_affinity_capped_by_the_quota_rounded_down(monkeypatch, quota, affinity, expected):
    monkeypatch.setattr(cpu_budget, "cpu_quota", lambda: quota)
    monkeypatch.setattr(cpu_budget, "affinity_cpus", lambda: affinity)
    cpu_budget.available_cpus.cache_clear()
    try:
        assert cpu_budget.available_cpus() == expected
    finally:
        cpu_budget.available_cpus.cache_clear()


def test_this_machine_gives_at_least_one_and_no_more_than_its_affinity():
    assert 1 <= cpu_budget.available_cpus() <= affinity_cpus()


V1_CPU = Path("/sys/fs/cgroup/cpu")
V2_ROOT = Path("/sys/fs/cgroup")


def writable_cgroup_parent() -> tuple[Path, int] | None:
    """Where a cgroup with a quota can be made here (v1's cpu controller or v2 with cpu enabled), as root."""
    if (V2_ROOT / "cgroup.subtree_control").exists() and "cpu" in (V2_ROOT / "cgroup.subtree_control").read_text():
        return V2_ROOT, 2
    if (V1_CPU / "cpu.cfs_quota_us").exists():
        return V1_CPU, 1
    return None


@pytest.mark.integration
def test_a_process_in_a_real_cgroup_with_a_quota_sees_it():
    where = writable_cgroup_parent()
    if where is None:
        pytest.skip("no cgroup CPU controller here (v1 cpu or v2 with cpu delegated)")
    parent, version = where
    group = parent / f"facecore-test-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
    except OSError as error:
        pytest.skip(f"cannot make a cgroup here ({error}): needs root and a writable cgroup mount")
    try:
        if version == 2:
            (group / "cpu.max").write_text("150000 100000")
        else:
            (group / "cpu.cfs_period_us").write_text("100000")
            (group / "cpu.cfs_quota_us").write_text("150000")
        code = ("import os, sys, cv2; open(sys.argv[1], 'w').write(str(os.getpid()));"
                "from facecore.cpu_budget import available_cpus, cap_opencv_threads, cpu_quota;"
                "cap_opencv_threads(); print(cpu_quota(), available_cpus(), cv2.getNumThreads())")
        # the child moves itself in before it reads: `cgroup.procs` takes the writer's pid
        child = subprocess.run([sys.executable, "-c", code, str(group / "cgroup.procs")], capture_output=True,
                               text=True, timeout=60, check=True)
        assert child.stdout.split() == ["1.5", "1", "1"]  # OpenCV alone counted 2 threads here
    finally:
        group.rmdir()


@pytest.fixture
def opencv_threads():
    """OpenCV's thread count as it was, back after the test (it is process-wide)."""
    import cv2

    before = cv2.getNumThreads()
    yield cv2
    cv2.setNumThreads(before)


def test_opencv_threads_are_capped_only_under_a_lower_limit(monkeypatch, opencv_threads):
    cv2 = opencv_threads
    cv2.setNumThreads(4)
    monkeypatch.setattr(cpu_budget, "available_cpus", lambda: 8)
    assert cpu_budget.cap_opencv_threads() is None and cv2.getNumThreads() == 4
    monkeypatch.setattr(cpu_budget, "available_cpus", lambda: 1)
    assert cpu_budget.cap_opencv_threads() == 1 and cv2.getNumThreads() == 1
