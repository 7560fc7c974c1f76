"""The OCI runtime-spec conformance suite: fixtures and helpers.

It reuses the integration suite's fixtures (a busybox bundle per test, its
own --root, the leftover check at teardown) by loading
tests/integration/conftest.py under another module name, and adds:

- @clause("<id>", ...): the clause(s) of COVERAGE.md a test checks (the
  coverage test keeps COVERAGE.md and the tests in step);
- small helpers to look at a container from the host."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("berth_integration", HERE.parent / "integration" / "conftest.py")
integration = importlib.util.module_from_spec(_spec)
sys.modules["berth_integration"] = integration
_spec.loader.exec_module(integration)

# The integration fixtures, registered here as this directory's own.
host_check = integration.host_check
make_bundle = integration.make_bundle
bundle = integration.bundle
berth = integration.berth
leftovers = integration.leftovers
spawn = integration.spawn

BERTH = integration.BERTH
TIMEOUT = integration.TIMEOUT
ns_inode = integration.ns_inode
proc_state = integration.proc_state
mountinfo = integration.mountinfo
wait_for = integration.wait_for
container_cgroup_dirs = integration.container_cgroup_dirs
own_cgroups = integration.own_cgroups
reap_orphans = integration.reap_orphans
controller_dir = integration.controller_dir


def pytest_configure(config):
    config.addinivalue_line("markers", "clause(*ids): the COVERAGE.md clauses a test checks")


def clause(*ids):
    return pytest.mark.clause(*ids)


def state(berth, id):
    return json.loads(berth.run(["state", id], check=True).stdout)


def script(path, text):
    """An executable shell script (for hooks)."""
    path = Path(path)
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return str(path)


def in_container(pid, *argv):
    """Run a host command inside every namespace of `pid` (nsenter)."""
    return subprocess.run(["nsenter", "-t", str(pid), "-a", *argv], capture_output=True, text=True,
                          timeout=TIMEOUT)


def expect_error(berth, bundle, message, command="run", id=None, opts=()):
    """`command` fails with `message` and leaves nothing (runtime.md#errors)."""
    id = id or berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = berth.run([command, "--bundle", bundle.path, *opts, id])
    assert r.returncode == 1, f"expected an error, got {r.returncode}: {r.stdout}{r.stderr}"
    assert message in r.stderr, r.stderr
    berth.leftovers(id, rootfs=bundle.rootfs)
    assert "does not exist" in berth.run(["state", id]).stderr
    return r

