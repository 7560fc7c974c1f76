"""The command line itself: version, help, usage errors, global options, spec."""

import json
import os
import re
import subprocess

import pytest

from conftest import BERTH, REPO, Berth

COMMANDS = ["spec", "create", "start", "run", "state", "kill", "delete", "list"]


def header_version():
    text = (REPO / "include" / "berth.h").read_text()
    return re.search(r'#define BERTH_VERSION "([^"]+)"', text).group(1)


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version(berth, flag):
    r = berth.run([flag])
    assert r.returncode == 0, r.stderr
    assert header_version() in r.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_commands(berth, flag):
    r = berth.run([flag])
    assert r.returncode == 0, r.stderr
    for cmd in COMMANDS:
        assert re.search(rf"\b{cmd}\b", r.stdout), f"`{cmd}` missing from --help"


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(berth, cmd):
    r = berth.run([cmd, "--help"])
    assert r.returncode == 0, r.stderr
    assert cmd in r.stdout
    assert r.stderr == ""


def test_unknown_command(berth):
    r = berth.run(["frobnicate"])
    assert r.returncode == 1
    assert r.stderr.strip(), "a usage error must say something on stderr"
    assert r.stdout == ""


def test_unknown_option(berth):
    r = berth.run(["--frobnicate", "list"])
    assert r.returncode == 1
    assert r.stderr.strip()
    r = berth.run(["list", "--frobnicate"])
    assert r.returncode == 1
    assert r.stderr.strip()


@pytest.mark.parametrize("args", [["create"], ["start"], ["state"], ["kill"], ["delete"]])
def test_missing_id(berth, args):
    r = berth.run(args)
    assert r.returncode == 1
    assert r.stderr.strip()


def test_error_format(berth):
    r = berth.run(["state", "nosuch"])
    assert r.returncode == 1
    assert r.stderr == "berth: container `nosuch` does not exist\n"


def test_log_file_gets_error(berth, tmp_path):
    log = tmp_path / "berth.log"
    r = berth.run(["state", "nosuch"], global_opts=["--log", str(log)])
    assert r.returncode == 1
    assert "container `nosuch` does not exist" in r.stderr
    assert "container `nosuch` does not exist" in log.read_text()


def test_log_format_json(berth):
    r = berth.run(["state", "nosuch"], global_opts=["--log-format", "json"])
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    obj = json.loads(lines[0])
    assert obj["level"] == "error"
    assert "container `nosuch` does not exist" in obj["msg"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", obj["time"])


def test_log_format_text(berth, tmp_path):
    log = tmp_path / "berth.log"
    r = berth.run(["state", "nosuch"], global_opts=["--log", str(log), "--log-format", "text"])
    assert r.returncode == 1
    assert re.search(r'time="\d{4}-\d\d-\d\dT[^"]+" level=error msg="[^"]*container `nosuch` does not exist',
                     log.read_text()), log.read_text()


def test_debug_logs_steps(berth, bundle, tmp_path):
    log = tmp_path / "berth.log"
    bundle.set_args("true")
    r = berth.run_container(bundle, global_opts=["--log", str(log), "--debug"])
    assert r.returncode == 0, r.stderr
    assert "level=debug" in log.read_text()


def test_systemd_cgroup_not_supported(berth, bundle):
    bundle.set_args("true")
    r = berth.run_container(bundle, global_opts=["--systemd-cgroup"])
    assert r.returncode == 1
    assert "--systemd-cgroup: not supported yet" in r.stderr


def test_root_created_if_missing(bundle, tmp_path):
    b = Berth(tmp_path / "a" / "b")
    try:
        bundle.set_args("true")
        b.create(bundle)
        assert os.path.isdir(b.root)
    finally:
        b.teardown()


# ---------------------------------------------------------------- spec

def test_spec_writes_config(berth, tmp_path):
    r = berth.run(["spec", "--bundle", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert isinstance(cfg["ociVersion"], str) and cfg["ociVersion"]
    assert cfg["process"]["args"]
    assert cfg["root"]["path"] == "rootfs"
    types = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= types


def test_spec_default_mounts(berth, tmp_path):
    berth.run(["spec", "--bundle", str(tmp_path)], check=True)
    cfg = json.loads((tmp_path / "config.json").read_text())
    dests = {m["destination"] for m in cfg["mounts"]}
    assert {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"} <= dests


def test_spec_in_cwd(tmp_path):
    r = subprocess.run([BERTH, "spec"], cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    json.loads((tmp_path / "config.json").read_text())


def test_spec_refuses_to_overwrite(berth, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text("precious")
    r = berth.run(["spec", "--bundle", str(tmp_path)])
    assert r.returncode == 1
    assert "config.json: already exists" in r.stderr
    assert cfg.read_text() == "precious"
