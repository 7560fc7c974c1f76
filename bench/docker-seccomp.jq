# Docker's seccomp profile (bench/docker-default-seccomp.json, Docker's own
# format) -> the OCI `linux.seccomp` section dockerd would hand a runtime for
# a container whose bounding set is $caps, on architecture $arch (libseccomp
# name, e.g. SCMP_ARCH_X86_64) = $goarch (Go name, e.g. amd64), kernel $kver:
#   jq --argjson caps '[...]' --arg arch A --arg goarch G --arg kver K -f docker-seccomp.jq
# An entry is kept when all its includes hold (every listed capability held,
# the architecture listed, the kernel at least minKernel) and none of its
# excludes does (no listed capability held, the architecture not listed).
def version: [splits("[.-]") | tonumber? // 0];
def has($list; $x): ($list // []) | any(.[]; . == $x);
def held($names): ($names // []) | all(.[]; has($caps; .));
def any_held($names): ($names // []) | any(.[]; has($caps; .));
{
  defaultAction,
  defaultErrnoRet,
  architectures: ([.archMap[] | select(.architecture == $arch)
                   | [.architecture] + (.subArchitectures // [])] | first // []),
  syscalls: [.syscalls[]
    | select((.includes.arches // []) == [] or has(.includes.arches; $goarch))
    | select(held(.includes.caps))
    | select(.includes.minKernel == null or ($kver | version) >= (.includes.minKernel | version))
    | select(has(.excludes.arches; $goarch) | not)
    | select(any_held(.excludes.caps) | not)
    | {names, action}
      + (if (.args // []) != [] then {args} else {} end)
      + (if .errnoRet != null then {errnoRet} else {} end)]
}
