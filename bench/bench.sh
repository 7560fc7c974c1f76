#!/usr/bin/env bash
# bench/bench.sh - berth, crun and runc on the same bundles in one run, with
# a no-runtime floor.  bench/README.md says what is measured and how.
#
#   bench.sh [--quick] [--results DIR] [--keep] BERTH
#
# Prints the markdown table and writes DIR/latest.md and DIR/ratios.png
# (default DIR: bench/results).  Must run as root; needs gcc, unshare, jq,
# gnuplot, strip, crun, runc and a static busybox (`scripts/setup bench`).
set -uo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"

die() { echo "bench.sh: $*" >&2; exit 2; }
log() { echo "[bench $(date +%T)] $*" >&2; }

QUICK=0; KEEP=0; RESULTS=$HERE/results; BERTH_ARG=""
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --keep) KEEP=1 ;;
        --results) [ $# -ge 2 ] || die "--results needs a directory"; RESULTS=$2; shift ;;
        -h|--help) sed -n '2,10p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option \`$1\` (see --help)" ;;
        *) [ -z "$BERTH_ARG" ] || die "one berth binary only"; BERTH_ARG=$1 ;;
    esac
    shift
done
[ -n "$BERTH_ARG" ] || die "usage: bench.sh [--quick] [--results DIR] [--keep] BERTH"

# ----------------------------------------------------------- stage 1: host --
# Check the tools, compile the helpers, give the run a cgroup of its own
# beneath ours, then re-run this script in it, inside ONE private mount (and
# cgroup) namespace shared by every runtime, under a child subreaper.

# "MOUNTPOINT OWN-PATH" for every cgroup v1 hierarchy: our cgroup in each,
# matched by controller set (and name=) between mountinfo and /proc/self/cgroup.
v1_hierarchies() {
    awk '
    function sorted(s,   a, n, i, j, t, out) {
        n = split(s, a, ",")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        out = a[1]; for (i = 2; i <= n; i++) out = out "," a[i]
        return out
    }
    FILENAME == "/proc/cgroups" { if ($1 !~ /^#/) ctl[$1] = 1; next }
    FILENAME == "/proc/self/cgroup" {
        split($0, f, ":"); p = $0; sub(/^[^:]*:[^:]*:/, "", p)
        if (f[2] != "") own[sorted(f[2])] = p
        next
    }
    {
        for (i = 7; i <= NF && $i != "-"; i++) ;
        if ($(i + 1) != "cgroup") next
        n = split($(i + 3), o, ","); key = ""
        for (k = 1; k <= n; k++) if ((o[k] in ctl) || o[k] ~ /^name=/) key = key "," o[k]
        key = sorted(substr(key, 2))
        if (key in own) print $5, own[key]
    }' /proc/cgroups /proc/self/cgroup /proc/self/mountinfo
}

# Creates our cgroup (berth-bench.PID beneath our own) in every v1 hierarchy
# and lists it in $WORK/cgroups.  Inside the cgroup namespace rooted there,
# every runtime's cgroups land beneath it, crun's "root" ones included: the
# host's other cgroups are never touched.
confine_setup() {
    local mp own dir
    : > "$WORK/cgroups"
    [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && return 0
    while read -r mp own; do
        dir="$mp${own%/}/berth-bench.$$"
        mkdir "$dir" || die "cannot create cgroup \`$dir\`"
        echo "$dir" >> "$WORK/cgroups"
        if [ -f "$dir/cpuset.cpus" ]; then   # an empty cpuset takes no task
            cat "$dir/../cpuset.cpus" > "$dir/cpuset.cpus" && cat "$dir/../cpuset.mems" > "$dir/cpuset.mems" ||
                die "cannot set up cpuset cgroup \`$dir\`"
        fi
    done < <(v1_hierarchies)
}

# Kills what is left in our cgroups (our own processes only), removes them.
confine_cleanup() {
    local dir d left=""
    [ -s "$WORK/cgroups" ] || return 0
    while read -r dir; do
        [ -d "$dir" ] || continue
        find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null |
            while read -r p; do kill -KILL "$p" 2>/dev/null; done
        while read -r d; do
            rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d"; }
            left+="${d#"$dir"/}"$'\n'
        done < <(find "$dir" -mindepth 1 -depth -type d)
        rmdir "$dir" || log "WARNING: could not remove cgroup \`$dir\`"
    done < "$WORK/cgroups"
    [ -z "$left" ] || log "removed cgroups the runtimes left beneath the benchmark's own:" \
        "$(printf '%s' "$left" | sort | uniq -c | awk '{printf "%s%s (%d hierarchies)", s, $2, $1; s = ", "}')"
}

if [ "${BENCH_STAGE:-}" != inner ]; then
    [ "$(id -u)" = 0 ] || die "must run as root"
    for t in gcc unshare jq gnuplot strip crun runc; do
        command -v $t >/dev/null || die "missing \`$t\` (scripts/setup bench installs it)"
    done
    BERTH=$(realpath -e "$BERTH_ARG") || die "berth binary \`$BERTH_ARG\` not found"
    mkdir -p "$RESULTS" && RESULTS=$(realpath "$RESULTS") || die "cannot create \`$RESULTS\`"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX") || die "mktemp failed"
    trap 'confine_cleanup; if [ $KEEP = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi' EXIT
    trap 'log "interrupted"' INT TERM    # the inner stage stops; clean up after it
    gcc -O2 -Wall -o "$WORK/benchtool" "$HERE/benchtool.c" -lm || die "compiling benchtool.c failed"
    gcc -O2 -Wall -o "$WORK/floor" "$HERE/floor.c" || die "compiling floor.c failed"
    confine_setup
    NSFLAGS=-m
    [ -s "$WORK/cgroups" ] && NSFLAGS=-mC
    export BENCH_STAGE=inner BENCH_WORK="$WORK" BENCH_BERTH="$BERTH" BENCH_RESULTS="$RESULTS"
    "$WORK/benchtool" reap -- /bin/sh -c '
        while read -r d; do echo $$ > "$d/cgroup.procs" || exit 2; done < "$BENCH_WORK/cgroups"
        exec unshare '$NSFLAGS' --propagation private bash "$0" "$@"' "$SELF" "${ORIG_ARGS[@]}"
    exit
fi

# ------------------------------------------------------ stage 2: namespace --
WORK=$BENCH_WORK
BERTH=$BENCH_BERTH
RESULTS=$BENCH_RESULTS
BT=$WORK/benchtool
FLOOR=$WORK/floor
D=$WORK/data
STATE=$WORK/state
mkdir -p "$D" "$STATE"
PFX="bb$$"                 # every container id starts with this
T_START=$EPOCHREALTIME
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

if [ $QUICK = 1 ]; then    # a smoke run, ~30 s; its ratios move by up to +-15 %
    : "${BENCH_RUN_N:=100}" "${BENCH_SCW_N:=40}" "${BENCH_SCC_N:=20}" "${BENCH_LC_N:=30}"
    : "${BENCH_EXEC_N:=60}" "${BENCH_PAR_R:=1}"
else
    : "${BENCH_RUN_N:=600}" "${BENCH_SCW_N:=300}" "${BENCH_SCC_N:=100}" "${BENCH_LC_N:=200}"
    : "${BENCH_EXEC_N:=400}" "${BENCH_PAR_R:=5}"
fi
: "${BENCH_PAR_N:=100}" "${BENCH_PAR_P:=8}" "${BENCH_BLOCK:=10}"

# --- cgroups: the namespace's root is our own cgroup ------------------------
# Remounting each v1 hierarchy inside the cgroup namespace roots it at our
# cgroup, so runtimes that place containers at a hierarchy's root (crun) stay
# beneath it.  crun refuses hybrid hosts (v1 controllers + cgroup2 at
# .../unified): the cgroup2 mount is replaced by an empty tmpfs, in this
# namespace only, so every runtime sees the same plain v1 host.
CGMODE=v2
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
    CGMODE="v1, each runtime's cgroups beneath the benchmark's own"
    if [ -s "$WORK/cgroups" ]; then
        while read -r mp opts; do
            umount "$mp" && mount -t cgroup -o "$opts" cgroup "$mp" || die "cannot remount \`$mp\`"
        done < <(awk '{ for (i = 7; i <= NF && $i != "-"; i++) ; if ($(i + 1) == "cgroup") print $5, $(i + 3) }' \
                 /proc/self/mountinfo)
    fi
    if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
        umount /sys/fs/cgroup/unified && mount -t tmpfs -o mode=755 bench-unified /sys/fs/cgroup/unified ||
            die "cannot replace /sys/fs/cgroup/unified"
        CGMODE="v1 (the hybrid host's cgroup2 unmounted for the run), each runtime's cgroups beneath the benchmark's own"
    fi
fi
# Every runtime keeps its state (--root) on one tmpfs, as /run would be.
mount -t tmpfs -o mode=700 bench-state "$STATE" || die "cannot mount a tmpfs on $STATE"

# --- runtimes -----------------------------------------------------------------
NAMES=(berth crun runc)
declare -A BIN=([berth]=$BERTH [crun]=$(command -v crun) [runc]=$(command -v runc))
declare -A OK
rt() { RT=("${BIN[$1]}" --root "$STATE/$1"); }   # sets RT: the runtime's argv prefix
TARGETS=("${NAMES[@]}" floor)

# --- bundles: busybox rootfs, `berth spec` -------------------------------------
BUSYBOX=""
for c in /bin/busybox /usr/bin/busybox; do
    [ -x "$c" ] && ! ldd "$c" >/dev/null 2>&1 && { BUSYBOX=$c; break; }   # static only
done
[ -n "$BUSYBOX" ] || die "need a static busybox (busybox-static)"
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"/{bin,proc,sys,dev,tmp,etc,root,run}
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -sf busybox "$ROOTFS/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOTFS/etc/passwd"
echo "root:x:0:" > "$ROOTFS/etc/group"

mkdir -p "$WORK/spec" && (cd "$WORK/spec" && "$BERTH" spec) || die "\`berth spec\` failed"
SPEC=$WORK/spec/config.json
# crun 1.8.1 refuses runtime-spec 1.2.0 ("unknown version specified"); the
# config uses nothing newer than 1.0, so all three get ociVersion 1.0.0.
jq --arg r "$ROOTFS" '.ociVersion = "1.0.0" | .process.terminal = false | .root.path = $r' "$SPEC" \
    > "$WORK/spec/base.json" || die "cannot prepare the config"
SECCOMP=$(jq --argjson caps "$(jq -c '.process.capabilities.bounding // []' "$SPEC")" \
    --arg arch SCMP_ARCH_X86_64 --arg goarch amd64 --arg kver "$(uname -r)" \
    -f "$HERE/docker-seccomp.jq" "$HERE/docker-default-seccomp.json") || die "cannot convert the seccomp profile"
[ "$(uname -m)" = x86_64 ] || log "WARNING: Docker's profile is converted for x86_64; this is $(uname -m)"
export FLOOR_NS; FLOOR_NS=$(jq -r '[.linux.namespaces[].type] | join(",")' "$SPEC")

make_bundle() {   # make_bundle DIR JQ-FILTER ARG...
    local dir=$1 filter=$2; shift 2
    mkdir -p "$dir"
    jq --argjson a "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" --argjson sc "$SECCOMP" \
        ".process.args = \$a | $filter" "$WORK/spec/base.json" > "$dir/config.json"
}
B_TRUE=$WORK/bundle-true;       make_bundle "$B_TRUE" . /bin/true
B_SLEEP=$WORK/bundle-sleep;     make_bundle "$B_SLEEP" . /bin/sleep 1000
B_SECCOMP=$WORK/bundle-seccomp; make_bundle "$B_SECCOMP" '.linux.seccomp = $sc' /bin/true

# --- cleanup ---------------------------------------------------------------------
LIVE=()          # "name:id" of long-lived containers
FLOOR_SLEEPER=""
cleanup() {
    local e n id
    for e in "${LIVE[@]}"; do rt "${e%%:*}"; "${RT[@]}" delete -f "${e#*:}" >/dev/null 2>&1; done
    LIVE=()
    [ -n "$FLOOR_SLEEPER" ] && kill -KILL "$FLOOR_SLEEPER" 2>/dev/null
    FLOOR_SLEEPER=""
    for n in "${NAMES[@]}"; do
        rt "$n"
        for id in $("${RT[@]}" list -q 2>/dev/null | grep "^$PFX-"); do "${RT[@]}" delete -f "$id" >/dev/null 2>&1; done
    done
    clean_unified
}
clean_unified() {   # crun writes <id>/ into the (private) tmpfs standing in for cgroup2
    [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = tmpfs ] && rm -rf /sys/fs/cgroup/unified/"$PFX"-*
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
errlog() { echo "$D/err-$1.log"; }
settle() { "$BT" settle "${1:-2000}" 90 >/dev/null; }

# --- sanity: each runtime must run both bundles ------------------------------------
for n in "${NAMES[@]}"; do
    rt "$n"; OK[$n]=1
    for b in "$B_TRUE" "$B_SECCOMP"; do
        if ! "${RT[@]}" run -b "$b" "$PFX-$n-sanity" </dev/null >/dev/null 2>"$D/sanity-$n.log"; then
            OK[$n]=0
            log "WARNING: $n cannot run $(basename "$b"); left out:"; sed 's/^/    /' "$D/sanity-$n.log" >&2
            "${RT[@]}" delete -f "$PFX-$n-sanity" >/dev/null 2>&1
        fi
    done
done
OK[floor]=1
"$FLOOR" run "$ROOTFS" 2>"$D/sanity-floor.log" || { OK[floor]=0; log "WARNING: the floor failed: $(cat "$D/sanity-floor.log")"; }
[ "${OK[crun]}" = 1 ] || die "crun cannot run the bundle: no baseline"
clean_unified

declare -A VAL NFAIL     # VAL[row|target] = number | n/a | FAIL
# stat_into ROW TARGET FILE COL FIELD DIV; FIELD: 3 mean 4 median 5 stddev 6 min 7 max 8 p90
stat_into() {
    local s
    read -ra s < <("$BT" stats "$3" "$4")
    NFAIL[$1|$2]=${s[1]:-0}
    if [ "${s[0]:-0}" -gt 0 ]; then
        VAL[$1|$2]=$(awk -v v="${s[$(($5 - 1))]}" -v d="$6" 'BEGIN{printf "%.3f", v/d}')
    else
        VAL[$1|$2]=FAIL
    fi
}

# loop_groups BUNDLE BEFORE-TEMPLATE: benchtool groups running BUNDLE in every runtime
loop_groups() {
    local n before
    G=()
    for n in "${NAMES[@]}"; do
        [ "${OK[$n]}" = 1 ] || continue
        rt "$n"
        before=-; [ "$2" = cache ] && before="rm -rf '$STATE/$n/@seccomp-cache'"
        G+=("$n" "$before" "'${BIN[$n]}' --root '$STATE/$n' delete -f {id} >/dev/null 2>&1" \
            "${RT[@]}" run -b "$1" "{id}" :::)
    done
}

# ========================================================= 1. run /bin/true
scen_run() {
    local t
    log "1. run: $BENCH_RUN_N runs of /bin/true per target, interleaved in blocks of $BENCH_BLOCK"
    loop_groups "$B_TRUE" -
    G+=(floor - - "$FLOOR" run "$ROOTFS")
    "$BT" loop -n "$BENCH_RUN_N" -w 3 -b "$BENCH_BLOCK" -p "$PFX-run" -o "$D/run-{name}.txt" \
        -e "$D/err-{name}.log" -- "${G[@]}"
    clean_unified
    for t in "${TARGETS[@]}"; do
        stat_into run_median "$t" "$D/run-$t.txt" 1 4 1000
        stat_into run_sd "$t" "$D/run-$t.txt" 1 5 1000
        stat_into run_p90 "$t" "$D/run-$t.txt" 1 8 1000
        [ -f "$D/run-$t.txt" ] && awk '{print $2 + $3, $NF}' "$D/run-$t.txt" > "$D/cpu-$t.txt"
        stat_into run_cpu "$t" "$D/cpu-$t.txt" 1 3 1000
        stat_into run_minflt "$t" "$D/run-$t.txt" 5 4 1
        # 4. peak RSS: ru_maxrss from wait4, the largest of the runtime and
        # every process it reaped (what GNU time's %M reports)
        stat_into rss "$t" "$D/run-$t.txt" 4 4 1
    done
}

# ================================================= 2. create/start/wait/delete
scen_lifecycle() {
    local n t
    log "2. lifecycle: $BENCH_LC_N create/start/wait/delete cycles per runtime, interleaved"
    G=()
    for n in "${NAMES[@]}"; do
        [ "${OK[$n]}" = 1 ] || continue
        rt "$n"; G+=("$n" "$B_TRUE" "${RT[@]}" :::)
    done
    unset 'G[${#G[@]}-1]'
    "$BT" lifecycle -n "$BENCH_LC_N" -w 2 -b "$BENCH_BLOCK" -p "$PFX-lc" -o "$D/lc-{name}.txt" \
        -e "$D/err-{name}.log" -- "${G[@]}"
    clean_unified
    for t in "${NAMES[@]}"; do
        stat_into lc_create "$t" "$D/lc-$t.txt" 1 4 1000
        stat_into lc_start "$t" "$D/lc-$t.txt" 2 4 1000
        stat_into lc_wait "$t" "$D/lc-$t.txt" 3 4 1000
        stat_into lc_delete "$t" "$D/lc-$t.txt" 4 4 1000
        stat_into lc_total "$t" "$D/lc-$t.txt" 5 4 1000
        # 4. memory charged to the container's own memory cgroup, peak
        if [ -s "$D/lc-$t.txt" ] && awk '$NF == 0 && $6 >= 0 {f = 1} END {exit !f}' "$D/lc-$t.txt"; then
            awk '$6 >= 0' "$D/lc-$t.txt" > "$D/lcm-$t.txt"
            stat_into memcg "$t" "$D/lcm-$t.txt" 6 4 1024
        else
            VAL[memcg|$t]=n/a
        fi
    done
}

# ================================================================== 3. exec
scen_exec() {
    local n t k id
    log "3. exec: $BENCH_EXEC_N x 'exec ID /bin/true' into a running 'sleep 1000' container, interleaved"
    declare -A SLEEPER
    for n in "${NAMES[@]}"; do
        [ "${OK[$n]}" = 1 ] || continue
        rt "$n"; id="$PFX-$n-sleeper"
        if "${RT[@]}" create -b "$B_SLEEP" "$id" </dev/null >/dev/null 2>>"$(errlog "$n")" &&
           "${RT[@]}" start "$id" </dev/null >/dev/null 2>>"$(errlog "$n")"; then
            SLEEPER[$n]=$id; LIVE+=("$n:$id")
        else
            log "WARNING: $n could not create+start the sleep container"
            "${RT[@]}" delete -f "$id" >/dev/null 2>&1
        fi
    done
    rm -f "$D/floor.pid"
    FLOOR_PIDFILE=$D/floor.pid "$FLOOR" run "$ROOTFS" /bin/sleep 1000 2>>"$(errlog floor)" &
    for k in $(seq 100); do [ -s "$D/floor.pid" ] && break; sleep 0.01; done
    FLOOR_SLEEPER=$(cat "$D/floor.pid" 2>/dev/null)
    sleep 0.2
    G=()
    for n in "${NAMES[@]}"; do
        [ -n "${SLEEPER[$n]:-}" ] || continue
        rt "$n"; G+=("$n" - - "${RT[@]}" exec "${SLEEPER[$n]}" /bin/true :::)
    done
    [ -n "$FLOOR_SLEEPER" ] && G+=(floor - - "$FLOOR" exec "$FLOOR_SLEEPER" /bin/true :::)
    unset 'G[${#G[@]}-1]'
    "$BT" loop -n "$BENCH_EXEC_N" -w 3 -b "$BENCH_BLOCK" -p "$PFX-exec" -o "$D/exec-{name}.txt" \
        -e "$D/err-{name}.log" -- "${G[@]}"
    cleanup
    wait 2>/dev/null
    for t in "${TARGETS[@]}"; do stat_into exec_median "$t" "$D/exec-$t.txt" 1 4 1000; done
}

# ====================================================== 5. 100 runs, 8 at once
scen_parallel() {
    local n t
    log "5. parallel: $BENCH_PAR_N runs, $BENCH_PAR_P at a time, $BENCH_PAR_R round(s) per target"
    G=()
    for n in "${NAMES[@]}"; do
        [ "${OK[$n]}" = 1 ] || continue
        rt "$n"
        G+=("$n" "'${BIN[$n]}' --root '$STATE/$n' delete -f {id} >/dev/null 2>&1" "${RT[@]}" run -b "$B_TRUE" "{id}" :::)
    done
    G+=(floor - "$FLOOR" run "$ROOTFS")
    "$BT" par -n "$BENCH_PAR_N" -P "$BENCH_PAR_P" -r "$BENCH_PAR_R" -p "$PFX-par" -o "$D/par-{name}.txt" \
        -e "$D/err-{name}.log" -- "${G[@]}"
    clean_unified
    for t in "${TARGETS[@]}"; do
        stat_into par_wall "$t" "$D/par-$t.txt" 1 4 1000
        # the worst batch: "succeeded/N"
        VAL[par_ok|$t]=$(awk -v n="$BENCH_PAR_N" 'NR == 1 || $2 < m {m = $2} END {if (NR) print m "/" n; else print "FAIL"}' \
            "$D/par-$t.txt" 2>/dev/null || echo FAIL)
    done
}

# ============================================== 6. Docker's seccomp profile
scen_seccomp() {
    local t
    log "6. seccomp warm: $BENCH_SCW_N runs with Docker's default profile, interleaved"
    loop_groups "$B_SECCOMP" -
    unset 'G[${#G[@]}-1]'
    "$BT" loop -n "$BENCH_SCW_N" -w 3 -b "$BENCH_BLOCK" -p "$PFX-scw" -o "$D/scw-{name}.txt" \
        -e "$D/err-{name}.log" -- "${G[@]}"
    clean_unified
    settle 2000
    log "6. seccomp cold: $BENCH_SCC_N runs, each after emptying <root>/@seccomp-cache (every runtime)"
    loop_groups "$B_SECCOMP" cache
    unset 'G[${#G[@]}-1]'
    "$BT" loop -n "$BENCH_SCC_N" -w 1 -b "$BENCH_BLOCK" -p "$PFX-scc" -o "$D/scc-{name}.txt" \
        -e "$D/err-{name}.log" -- "${G[@]}"
    clean_unified
    for t in "${NAMES[@]}"; do
        stat_into sc_warm "$t" "$D/scw-$t.txt" 1 4 1000
        stat_into sc_cold "$t" "$D/scc-$t.txt" 1 4 1000
    done
}

# =================================================== 7. binary and libraries
LIBS=()
scen_binary() {
    local t p
    for t in "${TARGETS[@]}"; do
        if [ "$t" = floor ]; then p=$FLOOR; else p=${BIN[$t]}; fi
        strip -o "$WORK/stripped-$t" "$p" 2>/dev/null || cp "$p" "$WORK/stripped-$t"
        VAL[bin_kib|$t]=$(awk -v s="$(stat -c %s "$WORK/stripped-$t")" 'BEGIN{printf "%.1f", s/1024}')
        VAL[libs|$t]=$(ldd "$p" 2>/dev/null | grep -v -e linux-vdso -e 'not a dynamic' -c)
        LIBS+=("$t: $(ldd "$p" 2>/dev/null | awk '$1 !~ /vdso/ {sub(/.*\//, "", $1); printf "%s%s", s, $1; s=", "}')")
    done
}

# ===================================================================== main
log "berth=$BERTH crun=${BIN[crun]} runc=${BIN[runc]}; cgroups: $CGMODE; work dir $WORK"
scen_binary
settle; scen_run
settle; scen_lifecycle
settle; scen_exec
settle; scen_parallel
settle; scen_seccomp
cleanup
T_END=$EPOCHREALTIME
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
# cgroups named after our containers that outlived `delete`
LEAKS=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -name "$PFX-*" 2>/dev/null | grep -v '^/sys/fs/cgroup/unified/')

# ================================================================== report
ROWS=(   # key|label|target ratio (berth/crun) or -
 "run_median|1. run /bin/true: median (ms)|0.5"
 "run_sd|1. run: standard deviation (ms)|-"
 "run_p90|1. run: 90th percentile (ms)|-"
 "run_cpu|1. run: CPU user+sys of the whole tree (ms, mean)|-"
 "run_minflt|1. run: minor page faults (median)|-"
 "lc_create|2. lifecycle: create (ms, median)|-"
 "lc_start|2. lifecycle: start (ms, median)|-"
 "lc_wait|2. lifecycle: wait for the exit (ms, median)|-"
 "lc_delete|2. lifecycle: delete (ms, median)|-"
 "lc_total|2. lifecycle: total (ms, median)|0.5"
 "exec_median|3. exec /bin/true: median (ms)|0.5"
 "rss|4. peak RSS during run (KiB, median)|0.7"
 "memcg|4. memory charged to the container's cgroup, peak (KiB, median)|1.0"
 "par_wall|5. $BENCH_PAR_N runs, $BENCH_PAR_P at a time: wall (ms, median)|0.5"
 "par_ok|5. $BENCH_PAR_N runs, $BENCH_PAR_P at a time: succeeded (worst round)|all"
 "sc_cold|6. run with Docker's seccomp profile, cold: cache emptied (ms, median)|-"
 "sc_warm|6. run with Docker's seccomp profile, warm (ms, median)|0.5"
 "bin_kib|7. stripped binary (KiB)|0.6"
 "libs|7. shared-library dependencies|-"
)
fmt() {   # fmt KEY VALUE
    local v=$2
    case "$v" in FAIL|n/a|*/*|"") echo "${v:-n/a}"; return ;; esac
    case "$1" in
        rss|memcg|run_minflt|libs) awk -v v="$v" 'BEGIN{printf "%.0f", v}' ;;
        bin_kib) awk -v v="$v" 'BEGIN{printf "%.0f", v}' ;;
        *) awk -v v="$v" 'BEGIN{ if (v >= 1000) printf "%.0f", v; else if (v >= 100) printf "%.1f", v; else printf "%.2f", v }' ;;
    esac
}
ratio() {  # ratio A B [PRECISION] -> A/B, or — when either is missing
    case "$1$2" in *FAIL*|*n/a*|*/*) echo "—"; return ;; esac
    [ -n "$1" ] && [ -n "$2" ] || { echo "—"; return; }
    awk -v a="$1" -v b="$2" -v p="${3:-2}" 'BEGIN{ if (b + 0 == 0) print "—"; else printf "%.*f", p, a / b }'
}
verdict() {  # verdict KEY TARGET: "≤ T ✓" / "≤ T ✗" for berth/crun
    local r
    case "$2" in
        -) echo "" ;;
        all) [ "${VAL[$1|berth]:-}" = "$BENCH_PAR_N/$BENCH_PAR_N" ] && echo "all ✓" || echo "all ✗" ;;
        *) r=$(ratio "${VAL[$1|berth]:-n/a}" "${VAL[$1|crun]:-n/a}" 4)
           if [ "$r" = "—" ]; then echo "≤ $2 ✗"
           elif awk -v r="$r" -v t="$2" 'BEGIN{exit !(r <= t)}'; then echo "≤ $2 ✓"
           else echo "≤ $2 ✗"; fi ;;
    esac
}
for n in "${NAMES[@]}"; do [ "${OK[$n]}" = 1 ] || for row in "${ROWS[@]}"; do
    k=${row%%|*}; [ "$k" = bin_kib ] || [ "$k" = libs ] || VAL[$k|$n]=FAIL; done; done
for row in "${ROWS[@]}"; do
    k=${row%%|*}
    case "$k" in lc_*|memcg|sc_*) VAL[$k|floor]=n/a ;; esac
done
FLOOR_X=$(ratio "${VAL[run_median|berth]}" "${VAL[run_median|floor]}")
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null)
[ -n "$commit" ] && [ -n "$(git -C "$HERE/.." status --porcelain --untracked-files=no 2>/dev/null)" ] &&
    commit="$commit + uncommitted changes"
WALL=$(awk -v a="${T_START/./}" -v b="${T_END/./}" 'BEGIN{printf "%.0f", (b - a) / 1e6}')

REPORT=$WORK/latest.md
{
    echo "Measured $(date -u '+%F %H:%M UTC') ($([ $QUICK = 1 ] && echo "quick smoke run" || echo "full run"), ${WALL} s)"
    echo "on Linux $(uname -r), $(nproc) CPUs (${cpu_model:-unknown CPU}), load average $LOAD0 before and $LOAD1 after;"
    echo "berth ${commit:+at $commit}, $(crun --version | head -n1), $(runc --version | head -n1)."
    echo
    echo "| scenario | berth | crun | runc | floor | berth/crun | runc/crun | target for berth/crun |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r k label target <<< "$row"
        line="| $label |"
        for t in "${TARGETS[@]}"; do
            v=$(fmt "$k" "${VAL[$k|$t]:-n/a}")
            [ "${NFAIL[$k|$t]:-0}" -gt 0 ] 2>/dev/null && v="$v (${NFAIL[$k|$t]} failed)"
            line+=" $v |"
        done
        line+=" $(ratio "${VAL[$k|berth]:-n/a}" "${VAL[$k|crun]:-n/a}") | $(ratio "${VAL[$k|runc]:-n/a}" "${VAL[$k|crun]:-n/a}") | $(verdict "$k" "$target") |"
        echo "$line"
    done
    echo
    echo "berth's run is **${FLOOR_X}×** the floor's (target ≤ 2.5×). Ratios below 1 mean berth is faster"
    echo "or smaller than crun. All runtimes run the same busybox bundle (\`berth spec\`, terminal off) in one"
    echo "private mount and cgroup namespace; every timed loop interleaves the runtimes in shuffled blocks of"
    echo "$BENCH_BLOCK. Samples per runtime: run $BENCH_RUN_N, lifecycle $BENCH_LC_N, exec $BENCH_EXEC_N,"
    echo "seccomp $BENCH_SCW_N warm and $BENCH_SCC_N cold, $BENCH_PAR_R round(s) of $BENCH_PAR_N parallel runs."
    echo "The floor clones the same namespaces, mounts /proc, pivots and execs /bin/true (exec: setns + fork + exec)."
    echo "Shared libraries: $(printf '%s; ' "${LIBS[@]}" | sed 's/; $//')."
    [ -n "$LEAKS" ] && echo "WARNING: cgroups left behind by a runtime: $(echo "$LEAKS" | tr '\n' ' ')"
} > "$REPORT"

# chart data: "scenario" berth/crun, runc/crun, floor/crun, target ("?" = none)
CHART=(
 "run|run_median|0.5" "lifecycle|lc_total|0.5" "exec|exec_median|0.5" "peak RSS|rss|0.7"
 "cgroup mem|memcg|1.0" "100 parallel|par_wall|0.5" "seccomp cold|sc_cold|?"
 "seccomp warm|sc_warm|0.5" "binary|bin_kib|0.6"
)
{
    for c in "${CHART[@]}"; do
        IFS='|' read -r label k target <<< "$c"
        printf '"%s"' "$label"
        for t in berth runc floor; do
            r=$(ratio "${VAL[$k|$t]:-n/a}" "${VAL[$k|crun]:-n/a}" 4); [ "$r" = "—" ] && r="?"
            printf ' %s' "$r"
        done
        echo " $target"
    done
} > "$WORK/ratios.dat"
gnuplot -e "datafile='$WORK/ratios.dat'; outfile='$WORK/ratios.png'; \
            subtitle='$(date -u +%F), Linux $(uname -r), $(nproc) CPUs, load $LOAD0; berth run = ${FLOOR_X}x floor'" \
    "$HERE/ratios.gp" || log "WARNING: gnuplot failed; no chart"

cat "$REPORT"
mkdir -p "$RESULTS"
cp "$REPORT" "$RESULTS/latest.md"
[ -f "$WORK/ratios.png" ] && cp "$WORK/ratios.png" "$RESULTS/ratios.png"
log "wrote $RESULTS/latest.md and $RESULTS/ratios.png"
for t in "${TARGETS[@]}"; do
    [ -s "$(errlog "$t")" ] && log "note: $t wrote $(wc -l < "$(errlog "$t")") stderr line(s), e.g.: $(head -n1 "$(errlog "$t")" | cut -c1-160)"
done

# machine-readable: berth/crun per scenario, then berth/floor
echo "# berth/crun:$(for c in "${CHART[@]}"; do IFS='|' read -r label k target <<< "$c"; \
    printf ' %s=%s' "${label// /_}" "$(ratio "${VAL[$k|berth]:-n/a}" "${VAL[$k|crun]:-n/a}" 3)"; done)"
echo "# berth/floor: run=$(ratio "${VAL[run_median|berth]}" "${VAL[run_median|floor]}" 3)"
