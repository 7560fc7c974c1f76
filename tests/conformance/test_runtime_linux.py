"""runtime-linux.md: the /dev symlinks every container gets, and the file
descriptors its process starts with."""

from conftest import clause


@clause("runtime-linux/dev-symlinks")
def test_dev_symlinks(berth, bundle):
    out = berth.sh(bundle, "for l in fd stdin stdout stderr; do echo $l $(readlink /dev/$l); done")
    assert out.split("\n")[:4] == ["fd /proc/self/fd", "stdin /proc/self/fd/0", "stdout /proc/self/fd/1",
                                   "stderr /proc/self/fd/2"]


@clause("runtime-linux/file-descriptors")
def test_only_stdio_is_open_by_default(berth, bundle):
    out = berth.sh(bundle, "ls /proc/self/fd")
    assert sorted(out.split()) == ["0", "1", "2", "3"]  # 3: ls's own listing of the directory
