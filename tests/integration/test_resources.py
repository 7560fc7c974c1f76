"""linux.resources: each resource lands in the cgroup file of the hierarchy
that holds its controller (this machine is hybrid: v1 controllers, cgroup2
with hugetlb), checked on the host and, where practical, by behaviour.
A resource this host cannot carry fails naming the field and the
controller, and leaves nothing behind."""

import json
import os

import pytest

from conftest import controller_dir, own_cgroups, read_cgroup, wait_for

MiB = 1 << 20


def create_with(berth, bundle, resources):
    bundle.linux["resources"] = resources
    return berth.create(bundle).id


def fails_with(berth, bundle, resources, message, leftovers):
    bundle.linux["resources"] = resources
    r = berth.create(bundle, check=False)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr, r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)
    return r


def needs(controller):
    if controller_dir("probe", controller) is None:
        pytest.skip(f"this host has no {controller or 'cgroup2'} hierarchy")


# ---------------------------------------------------------------- memory

def test_memory_files(berth, bundle):
    needs("memory")
    id = create_with(berth, bundle, {"memory": {"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB,
                                                "swappiness": 7, "kernelTCP": 16 * MiB,
                                                "disableOOMKiller": True, "useHierarchy": True}})
    assert read_cgroup(id, "memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert read_cgroup(id, "memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
    assert read_cgroup(id, "memory", "memory.memsw.limit_in_bytes") == str(96 * MiB)
    assert read_cgroup(id, "memory", "memory.swappiness") == "7"
    assert read_cgroup(id, "memory", "memory.kmem.tcp.limit_in_bytes") == str(16 * MiB)
    assert "oom_kill_disable 1" in read_cgroup(id, "memory", "memory.oom_control")
    assert read_cgroup(id, "memory", "memory.use_hierarchy") == "1"


def test_memory_unlimited_sets_swap_unlimited(berth, bundle):
    needs("memory")
    id = create_with(berth, bundle, {"memory": {"limit": -1}})
    unlimited = int(read_cgroup(id, "memory", "memory.limit_in_bytes"))
    assert unlimited > 1 << 60
    assert int(read_cgroup(id, "memory", "memory.memsw.limit_in_bytes")) == unlimited


def test_memory_zeros_mean_unset(berth, bundle):
    # What Go-based engines write for fields they leave unset.
    needs("memory")
    id = create_with(berth, bundle, {"memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0,
                                                "kernelTCP": 0}, "cpu": {"shares": 0, "quota": 0},
                                     "blockIO": {"weight": 0}, "pids": {"limit": 0}})
    assert int(read_cgroup(id, "memory", "memory.limit_in_bytes")) > 1 << 60
    assert read_cgroup(id, "cpu", "cpu.shares") == "1024"
    assert read_cgroup(id, "pids", "pids.max") == "max"


def test_memory_kernel_limit_refused(berth, bundle, leftovers):
    # This kernel accepts memory.kmem.limit_in_bytes and ignores it.
    needs("memory")
    fails_with(berth, bundle, {"memory": {"kernel": 64 * MiB}},
               "linux.resources.memory.kernel: this kernel ignores `memory.kmem.limit_in_bytes`", leftovers)


def test_memory_swap_below_limit(berth, bundle, leftovers):
    fails_with(berth, bundle, {"memory": {"limit": 64 * MiB, "swap": 32 * MiB}},
               "linux.resources.memory.swap: must be at least `memory.limit`", leftovers)


def test_memory_bad_values(berth, bundle, leftovers):
    fails_with(berth, bundle, {"memory": {"limit": -5}},
               "linux.resources.memory.limit: expected -1 (unlimited) or a number of bytes", leftovers)
    fails_with(berth, bundle, {"memory": {"swappiness": 101}},
               "linux.resources.memory.swappiness: expected an integer between 0 and 100", leftovers)
    fails_with(berth, bundle, {"memory": {"limit": "1g"}},
               "linux.resources.memory.limit: expected an integer", leftovers)
    fails_with(berth, bundle, {"memory": []}, "linux.resources.memory: expected an object", leftovers)


def test_memory_limit_enforced(berth, bundle):
    # A hog of 20 MiB under a 4 MiB limit is killed; a small allocation is not.
    needs("memory")
    bundle.linux["resources"] = {"memory": {"limit": 4 * MiB}}
    bundle.sh("dd if=/dev/zero of=/dev/null bs=1M count=1 && echo small-ok;"
              " dd if=/dev/zero of=/dev/null bs=20M count=1; echo hog=$?")
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr
    assert "small-ok" in r.stdout
    assert "hog=137" in r.stdout


# ---------------------------------------------------------------- cpu, cpuset

def test_cpu_files(berth, bundle):
    needs("cpu")
    id = create_with(berth, bundle, {"cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 10000,
                                             "realtimePeriod": 500000, "idle": 0}})
    assert read_cgroup(id, "cpu", "cpu.shares") == "512"
    assert read_cgroup(id, "cpu", "cpu.cfs_quota_us") == "50000"
    assert read_cgroup(id, "cpu", "cpu.cfs_period_us") == "100000"
    assert read_cgroup(id, "cpu", "cpu.cfs_burst_us") == "10000"
    assert read_cgroup(id, "cpu", "cpu.rt_period_us") == "500000"
    assert read_cgroup(id, "cpu", "cpu.idle") == "0"


def test_cpu_idle_and_unlimited_quota(berth, bundle):
    needs("cpu")
    id = create_with(berth, bundle, {"cpu": {"quota": -1, "idle": 1}})
    assert read_cgroup(id, "cpu", "cpu.cfs_quota_us") == "-1"
    assert read_cgroup(id, "cpu", "cpu.idle") == "1"


def test_cpu_realtime_runtime_over_parent(berth, bundle, leftovers):
    # The parent cgroup has no realtime budget to hand out: the kernel's
    # refusal comes back naming the field.
    needs("cpu")
    fails_with(berth, bundle, {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}},
               "linux.resources.cpu.realtimeRuntime: write `10000` to", leftovers)


def test_cpu_bad_values(berth, bundle, leftovers):
    fails_with(berth, bundle, {"cpu": {"shares": 1}},
               "linux.resources.cpu.shares: expected an integer between 2 and 262144", leftovers)
    fails_with(berth, bundle, {"cpu": {"quota": 10000, "burst": 20000}},
               "linux.resources.cpu.burst: must not be larger than `cpu.quota`", leftovers)
    fails_with(berth, bundle, {"cpu": {"cpus": "0;1"}},
               "linux.resources.cpu.cpus: expected a list like `0-3,7`, got `0;1`", leftovers)
    fails_with(berth, bundle, {"cpu": {"idle": 2}},
               "linux.resources.cpu.idle: expected an integer between 0 and 1", leftovers)


def test_cpuset(berth, bundle):
    needs("cpuset")
    bundle.linux["resources"] = {"cpu": {"cpus": "0", "mems": "0"}}
    out = berth.sh(bundle, "grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status")
    assert "Cpus_allowed_list:\t0\n" in out
    assert "Mems_allowed_list:\t0\n" in out


def test_cpuset_files(berth, bundle):
    needs("cpuset")
    id = create_with(berth, bundle, {"cpu": {"cpus": "0", "mems": "0"}})
    assert read_cgroup(id, "cpuset", "cpuset.cpus") == "0"
    assert read_cgroup(id, "cpuset", "cpuset.mems") == "0"


def test_cpuset_missing_cpu(berth, bundle, leftovers):
    needs("cpuset")
    fails_with(berth, bundle, {"cpu": {"cpus": "4095"}}, "linux.resources.cpu.cpus: write `4095` to", leftovers)


# ---------------------------------------------------------------- pids

def test_pids_limit_file(berth, bundle):
    needs("pids")
    id = create_with(berth, bundle, {"pids": {"limit": 7}})
    assert read_cgroup(id, "pids", "pids.max") == "7"


def test_pids_negative_is_max(berth, bundle):
    needs("pids")
    id = create_with(berth, bundle, {"pids": {"limit": -1}})
    assert read_cgroup(id, "pids", "pids.max") == "max"


def test_pids_limit_stops_forks(berth, bundle):
    # The shell and three sleeps make four; the fifth process cannot be made.
    needs("pids")
    bundle.linux["resources"] = {"pids": {"limit": 4}}
    bundle.sh("sleep 30 & sleep 30 & sleep 30 & echo three; (echo fifth); echo after")
    r = berth.run_container(bundle)
    assert r.stdout == "three\n"
    assert r.returncode != 0
    assert "can't fork" in r.stderr


# ---------------------------------------------------------------- blkio

def root_device():
    st = os.stat("/")
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    # A partition's throttle goes on its disk: use the whole disk when sysfs says so.
    try:
        dev = os.path.realpath(f"/sys/dev/block/{major}:{minor}")
        if os.path.exists(os.path.join(dev, "partition")):
            with open(os.path.join(os.path.dirname(dev), "dev")) as f:
                major, minor = map(int, f.read().split(":"))
    except OSError:
        pass
    return major, minor


def test_blkio_throttle_files(berth, bundle):
    needs("blkio")
    major, minor = root_device()
    if not os.path.exists(f"/sys/dev/block/{major}:{minor}"):
        pytest.skip("the root filesystem is not on a block device")
    dev = {"major": major, "minor": minor}
    id = create_with(berth, bundle, {"blockIO": {
        "throttleReadBpsDevice": [{**dev, "rate": 1048576}],
        "throttleWriteBpsDevice": [{**dev, "rate": 2097152}],
        "throttleReadIOPSDevice": [{**dev, "rate": 100}],
        "throttleWriteIOPSDevice": [{**dev, "rate": 200}]}})
    want = {"blkio.throttle.read_bps_device": 1048576, "blkio.throttle.write_bps_device": 2097152,
            "blkio.throttle.read_iops_device": 100, "blkio.throttle.write_iops_device": 200}
    for name, rate in want.items():
        assert read_cgroup(id, "blkio", name) == f"{major}:{minor} {rate}", name


def blkio_weight_file(id):
    """blkio.weight with the CFQ scheduler, blkio.bfq.weight with BFQ."""
    d = controller_dir(id, "blkio")
    for name in ("blkio.weight", "blkio.bfq.weight"):
        if os.path.exists(os.path.join(d, name)):
            return name
    return None


def test_blkio_weight(berth, bundle):
    needs("blkio")
    id = create_with(berth, bundle, {"blockIO": {"weight": 500}})
    name = blkio_weight_file(id)
    assert name is not None
    assert read_cgroup(id, "blkio", name).split()[-1] == "500"


def test_blkio_leaf_weight_missing(berth, bundle, leftovers):
    # Neither BFQ nor this kernel has leaf weights any more (CFQ had them).
    needs("blkio")
    probe = controller_dir("probe", "blkio")
    if os.path.exists(os.path.join(os.path.dirname(probe), "blkio.leaf_weight")):
        pytest.skip("this host has blkio.leaf_weight")
    fails_with(berth, bundle, {"blockIO": {"leafWeight": 500}},
               "linux.resources.blockIO.leafWeight: the blkio controller has no `blkio.leaf_weight` on this host",
               leftovers)


def test_blkio_bad_values(berth, bundle, leftovers):
    fails_with(berth, bundle, {"blockIO": {"weight": 5}},
               "linux.resources.blockIO.weight: expected an integer between 10 and 1000", leftovers)
    fails_with(berth, bundle, {"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}},
               "linux.resources.blockIO.throttleReadBpsDevice[0].minor: required", leftovers)
    fails_with(berth, bundle, {"blockIO": {"weightDevice": [{"major": 8, "minor": 0}]}},
               "linux.resources.blockIO.weightDevice[0]: needs `weight` or `leafWeight`", leftovers)


# ---------------------------------------------------------------- hugetlb (cgroup2 here)

def cgroup2_controllers():
    """The controllers our own cgroup2 directory offers its children."""
    for ctrls, _, d in own_cgroups():
        if ctrls == "":
            with open(os.path.join(d, "cgroup.controllers")) as f:
                return f.read().split()
    return []


def hugetlb_dir():
    """Where hugetlb is here: "hugetlb" (v1), "" (cgroup2) or None."""
    if controller_dir("probe", "hugetlb") is not None:
        return "hugetlb"
    return "" if "hugetlb" in cgroup2_controllers() else None


def test_hugepage_limit(berth, bundle):
    controller = hugetlb_dir()
    if controller is None:
        pytest.skip("this host has no hugetlb controller")
    if not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip("this host has no 2MB huge pages")
    id = create_with(berth, bundle, {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]})
    name = "hugetlb.2MB.max" if controller == "" else "hugetlb.2MB.limit_in_bytes"
    assert read_cgroup(id, controller, name) == str(4 * MiB)


def test_hugepage_unknown_size(berth, bundle, leftovers):
    if hugetlb_dir() is None:
        pytest.skip("this host has no hugetlb controller")
    fails_with(berth, bundle, {"hugepageLimits": [{"pageSize": "3MB", "limit": 4 * MiB}]},
               "linux.resources.hugepageLimits[0].pageSize: this host has no `3MB` huge pages", leftovers)
    fails_with(berth, bundle, {"hugepageLimits": [{"pageSize": "2mb", "limit": 1}]},
               "linux.resources.hugepageLimits[0].pageSize: expected a size like `2MB` or `1GB`, got `2mb`",
               leftovers)


# ---------------------------------------------------------------- network, rdma

def test_network_needs_v1_controllers(berth, bundle, leftovers):
    if controller_dir("probe", "net_cls") is not None:
        pytest.skip("this host mounts net_cls")
    fails_with(berth, bundle, {"network": {"classID": 1048577}},
               "linux.resources.network.classID: the net_cls controller is not available on this host "
               "(it exists only in cgroup v1)", leftovers)
    fails_with(berth, bundle, {"network": {"priorities": [{"name": "lo", "priority": 5}]}},
               "linux.resources.network.priorities: the net_prio controller is not available", leftovers)


def test_rdma_not_available(berth, bundle, leftovers):
    with open("/proc/cgroups") as f:
        if any(l.split()[0] == "rdma" for l in f if not l.startswith("#")):
            pytest.skip("this kernel has an rdma controller")
    fails_with(berth, bundle, {"rdma": {"mlx5_1": {"hcaHandles": 3}}},
               "linux.resources.rdma: the rdma controller is not available on this host", leftovers)
    fails_with(berth, bundle, {"rdma": {"mlx5_1": {}}},
               "linux.resources.rdma.mlx5_1: needs `hcaHandles` or `hcaObjects`", leftovers)


# ---------------------------------------------------------------- unified

def test_unified_on_cgroup2(berth, bundle):
    needs("")
    id = create_with(berth, bundle, {"unified": {"cgroup.max.descendants": "3", "cgroup.max.depth": "2"}})
    assert read_cgroup(id, "", "cgroup.max.descendants") == "3"
    assert read_cgroup(id, "", "cgroup.max.depth") == "2"


def test_unified_controller_not_in_cgroup2(berth, bundle, leftovers):
    # memory is a v1 controller here: cgroup2 cannot take memory.max.
    needs("")
    if "memory" in cgroup2_controllers():
        pytest.skip("the memory controller is in cgroup2 on this host")
    fails_with(berth, bundle, {"unified": {"memory.max": "1000000"}},
               "linux.resources.unified.memory.max: the memory controller is not available in the cgroup2 "
               "hierarchy on this host", leftovers)


def test_unified_bad_keys(berth, bundle, leftovers):
    fails_with(berth, bundle, {"unified": {"cgroup.procs": "1"}},
               "linux.resources.unified.cgroup.procs: `cgroup.procs` is managed by berth", leftovers)
    fails_with(berth, bundle, {"unified": {"../x": "1"}},
               "linux.resources.unified.../x: expected a cgroup file name like `memory.high`", leftovers)
    fails_with(berth, bundle, {"unified": {"cgroup.max.depth": 2}},
               "linux.resources.unified.cgroup.max.depth: expected a string", leftovers)


def test_unified_missing_file(berth, bundle, leftovers):
    needs("")
    fails_with(berth, bundle, {"unified": {"cgroup.no_such_file": "1"}},
               "linux.resources.unified.cgroup.no_such_file: the cgroup controller has no `cgroup.no_such_file` "
               "on this host", leftovers)


# ---------------------------------------------------------------- devices

def with_loop0(bundle):
    """Bind the host's /dev/loop0 (a block device no default rule allows)."""
    if not os.path.exists("/dev/loop0"):
        pytest.skip("this host has no /dev/loop0")
    bundle.add_mount("/dev/loop0", source="/dev/loop0", options=["bind"])


def test_devices_deny_by_default(berth, bundle):
    # berth spec's deny-all rule is enforced: a disk node is not usable; the
    # standard devices still are.
    needs("devices")
    with_loop0(bundle)
    bundle.sh("head -c0 /dev/loop0 || echo denied; echo x > /dev/null && echo null-ok; head -c1 /dev/zero | wc -c")
    r = berth.run_container(bundle)
    assert r.stdout.split() == ["denied", "null-ok", "1"], r.stderr
    assert "/dev/loop0: Operation not permitted" in r.stderr


def test_devices_allow_rule(berth, bundle):
    needs("devices")
    with_loop0(bundle)
    bundle.linux["resources"] = {"devices": [{"allow": False, "access": "rwm"},
                                             {"allow": True, "type": "b", "major": 7, "minor": 0,
                                              "access": "r"}]}
    bundle.sh("head -c0 /dev/loop0 && echo read-ok; echo > /dev/loop0 || echo write-denied")
    r = berth.run_container(bundle)
    assert r.stdout.split() == ["read-ok", "write-denied"], r.stderr
    assert "can't create /dev/loop0: Operation not permitted" in r.stderr


def test_devices_without_rules_inherit(berth, bundle):
    # No rules at all: the container keeps its parent's (allow-all) policy.
    needs("devices")
    with_loop0(bundle)
    bundle.linux["resources"] = {}
    bundle.sh("head -c0 /dev/loop0 && echo read-ok")
    assert berth.sh(bundle, "head -c0 /dev/loop0 && echo read-ok") == "read-ok\n"


def test_devices_rules_in_cgroup(berth, bundle):
    needs("devices")
    bundle.linux["resources"] = {"devices": [{"allow": False, "access": "rwm"},
                                             {"allow": True, "type": "c", "major": 4, "minor": 7,
                                              "access": "rw"}]}
    id = berth.create(bundle).id
    rules = read_cgroup(id, "devices", "devices.list").splitlines()
    assert "a *:* rwm" not in rules
    assert "c 4:7 rw" in rules
    assert "c 1:3 rwm" in rules  # /dev/null, as every container needs


def test_devices_bad_rules(berth, bundle, leftovers):
    fails_with(berth, bundle, {"devices": [{"access": "rwm"}]},
               "linux.resources.devices[0].allow: required", leftovers)
    fails_with(berth, bundle, {"devices": [{"allow": True, "access": "rwx"}]},
               "linux.resources.devices[0].access: expected letters of `rwm`, got `rwx`", leftovers)
    fails_with(berth, bundle, {"devices": [{"allow": True, "type": "p"}]},
               "linux.resources.devices[0].type: expected `a`, `c` or `b`, got `p`", leftovers)


# ---------------------------------------------------------------- update

def running(berth, bundle, resources=None, script="sleep 100"):
    if resources is not None:
        bundle.linux["resources"] = resources
    bundle.set_readonly(False)
    bundle.sh(script)
    return berth.run_detached(bundle).id


def test_update_flags(berth, bundle):
    for c in ("memory", "cpu", "cpuset", "pids"):
        needs(c)
    id = running(berth, bundle)
    berth.run(["update", "--memory", "48m", "--memory-reservation", "16M", "--memory-swap", "96MiB",
               "--cpu-share", "256", "--cpu-period", "200000", "--cpu-quota", "100000", "--cpu-burst", "5000",
               "--cpuset-cpus", "0", "--cpuset-mems", "0", "--pids-limit", "33", id], check=True)
    assert read_cgroup(id, "memory", "memory.limit_in_bytes") == str(48 * MiB)
    assert read_cgroup(id, "memory", "memory.soft_limit_in_bytes") == str(16 * MiB)
    assert read_cgroup(id, "memory", "memory.memsw.limit_in_bytes") == str(96 * MiB)
    assert read_cgroup(id, "cpu", "cpu.shares") == "256"
    assert read_cgroup(id, "cpu", "cpu.cfs_period_us") == "200000"
    assert read_cgroup(id, "cpu", "cpu.cfs_quota_us") == "100000"
    assert read_cgroup(id, "cpu", "cpu.cfs_burst_us") == "5000"
    assert read_cgroup(id, "cpuset", "cpuset.cpus") == "0"
    assert read_cgroup(id, "pids", "pids.max") == "33"
    # runc's --cpu-share, and the --cpu-shares spelling engines also use
    berth.run(["update", "--cpu-shares", "300", "--pids-limit", "-1", "--cpu-quota", "-1", id], check=True)
    assert read_cgroup(id, "cpu", "cpu.shares") == "300"
    assert read_cgroup(id, "pids", "pids.max") == "max"
    assert read_cgroup(id, "cpu", "cpu.cfs_quota_us") == "-1"


def test_update_blkio_weight_flag(berth, bundle):
    needs("blkio")
    id = running(berth, bundle)
    name = blkio_weight_file(id)
    if name is None:
        pytest.skip("this host has no blkio weight")
    berth.run(["update", "--blkio-weight", "300", id], check=True)
    assert read_cgroup(id, "blkio", name).split()[-1] == "300"


def test_update_docker_resources(berth, bundle):
    # What `docker update --memory 100m --memory-swap 200m` sends: zeros mean unchanged.
    needs("memory")
    needs("cpu")
    id = running(berth, bundle, {"cpu": {"shares": 512}})
    doc = {"memory": {"limit": 104857600, "reservation": 0, "swap": 209715200, "kernel": 0},
           "cpu": {"shares": 0, "quota": 0, "period": 0}, "blockIO": {"weight": 0}}
    berth.run(["update", "--resources", "-", id], input=json.dumps(doc), check=True)
    assert read_cgroup(id, "memory", "memory.limit_in_bytes") == "104857600"
    assert read_cgroup(id, "memory", "memory.memsw.limit_in_bytes") == "209715200"
    assert read_cgroup(id, "cpu", "cpu.shares") == "512"
    # lowering both again: the limit goes first, then memory+swap
    doc["memory"].update(limit=50 * MiB, swap=60 * MiB)
    berth.run(["update", "-r", "-", id], input=json.dumps(doc), check=True)
    assert read_cgroup(id, "memory", "memory.limit_in_bytes") == str(50 * MiB)
    assert read_cgroup(id, "memory", "memory.memsw.limit_in_bytes") == str(60 * MiB)


def test_update_file_then_flags(berth, bundle, tmp_path):
    needs("pids")
    id = running(berth, bundle)
    f = tmp_path / "res.json"
    f.write_text(json.dumps({"pids": {"limit": 10}, "cpu": {"shares": 700}}))
    berth.run(["update", "--resources", str(f), "--pids-limit", "12", id], check=True)
    assert read_cgroup(id, "pids", "pids.max") == "12"
    assert read_cgroup(id, "cpu", "cpu.shares") == "700"


def test_update_check_before_update(berth, bundle):
    # 8 MiB in a tmpfs is charged to the container and cannot be reclaimed.
    needs("memory")
    id = running(berth, bundle, {"memory": {"limit": 64 * MiB}},
                 "head -c 8388608 /dev/zero > /dev/shm/x && echo > /tmp/ready; sleep 100")
    wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "tmp", "ready")), what="the allocation")
    r = berth.run(["update", "-r", "-", id], input=json.dumps({"memory": {"limit": 4 * MiB,
                                                                         "checkBeforeUpdate": True}}))
    assert r.returncode == 1
    assert (f"update container `{id}`: linux.resources.memory.limit: 4194304 is below the container's "
            "memory usage") in r.stderr
    assert read_cgroup(id, "memory", "memory.limit_in_bytes") == str(64 * MiB)


def test_update_errors(berth, bundle):
    id = running(berth, bundle)
    r = berth.run(["update", "--memory", "lots", id])
    assert "--memory: expected a size like 512m or -1, got `lots`" in r.stderr
    r = berth.run(["update", "--cpu-period", "-5", id])
    assert "--cpu-period: expected a number, got `-5`" in r.stderr
    r = berth.run(["update", "--cpuset-cpus", "0;1", id])
    assert "--cpuset-cpus: expected a list like 0-3,7, got `0;1`" in r.stderr
    r = berth.run(["update", id])
    assert r.returncode == 1
    assert "update: nothing to change (give --resources or a flag)" in r.stderr
    r = berth.run(["update", "-r", "-", id], input="{not json")
    assert "resources: line 1, column 4: string or '}' expected near 'not'\n" in r.stderr
    r = berth.run(["update", "-r", "-", id], input='{"devices": [{"allow": true, "access": "rwm"}]}')
    assert "linux.resources.devices: cannot be changed by update" in r.stderr
    r = berth.run(["update", "-r", "-", id], input='{"memory": {"swappiness": 200}}')
    assert "linux.resources.memory.swappiness: expected an integer between 0 and 100" in r.stderr
    r = berth.run(["update", "-r", "/no/such/file", id])
    assert "open `/no/such/file`: No such file or directory" in r.stderr
    r = berth.run(["update", "--pids-limit", "3", "no-such-container"])
    assert "container `no-such-container` does not exist" in r.stderr


def test_update_stopped(berth, bundle):
    bundle.set_args("true")
    id = berth.run_container(bundle, opts=["--keep"]).id
    r = berth.run(["update", "--pids-limit", "3", id])
    assert r.returncode == 1
    assert f"cannot update container `{id}`: it is stopped" in r.stderr


def test_update_unavailable_controller(berth, bundle):
    if controller_dir("probe", "net_cls") is not None:
        pytest.skip("this host mounts net_cls")
    id = running(berth, bundle)
    r = berth.run(["update", "-r", "-", id], input='{"network": {"classID": 7}}')
    assert r.returncode == 1
    assert (f"update container `{id}`: linux.resources.network.classID: the net_cls controller is not "
            "available on this host") in r.stderr
