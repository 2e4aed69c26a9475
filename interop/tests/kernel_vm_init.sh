#!/bin/busybox sh
# /init of the kernel cifs client VM (test_kernel_client.py): the guest's only script.
# Loads the modules listed in /etc/modules.load, brings the NIC up, then for each variant of
# $VARIANTS mounts the share and runs its checks, printing one line per case on the console:
#   KVMTEST PASS <case>            KVMTEST FAIL <case> <why>            KVMTEST INFO <what> <text>
# and finally `KVMTEST DONE` before powering off. /etc/test.env (written by kernel_vm.py) sets
#   SERVER PORT GUEST PREFIX USER PASS   where and how to log on
#   VARIANTS   "name|share|options|DebugData regex[|host];..."  the first one gets the full file
#              suite (FULL_CASES); host (a name in /etc/hosts) replaces $SERVER in the UNC
#   KRB5CCNAME (optional) the credential cache for sec=krb5 mounts (copied to /tmp/krb5cc_0)
#   BIGDIR     entries of the large directory case
#   FULL       (optional) the cases of the full suite to run, by name (default: all)
#   CIFSFYI    (optional) non-empty: the kernel's cifs debug messages of each case on the console
/bin/busybox mkdir -p /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
. /etc/test.env
if [ -n "$KRB5CCNAME" ]; then
    export KRB5CCNAME
    # cifs.upcall looks for root's default cache, /tmp/krb5cc_0 (KRB5CCNAME is not passed on).
    cp "${KRB5CCNAME#FILE:}" /tmp/krb5cc_0 && chmod 600 /tmp/krb5cc_0
    # request-key and cifs.upcall report through syslog: keep it, for a failed mount.
    syslogd -O /tmp/messages
fi
echo "KVMTEST INFO boot kernel $(uname -r), init started after $(cut -d' ' -f1 /proc/uptime) s"

for m in $(cat /etc/modules.load); do
    args=
    # With CIFSFYI, cifs's debug messages (pr_debug) are enabled through dynamic debug.
    [ "$m" = cifs.ko ] && [ -n "$CIFSFYI" ] && args="dyndbg=+p"
    out=$(insmod "/lib/modules/$m" $args 2>&1) || echo "KVMTEST INFO insmod $m: $out"
done
ip link set lo up
ip link set eth0 up && ip addr add "$GUEST/$PREFIX" dev eth0 || echo "KVMTEST FAIL network eth0 not configured"
# Wait for the link to answer (the first packets may race the device's setup).
i=0
until ping -c 1 -W 1 "$SERVER" >/dev/null 2>&1 || [ $i -ge 10 ]; do i=$((i + 1)); done

# --- helpers --------------------------------------------------------------------------------

# die MSG: a case's checks stop with MSG as the reason (cases run in a subshell).
die() { echo "$*"; exit 1; }

# case_run NAME FUNCTION [ARGS]: runs a check in a subshell and prints its verdict.
case_run() {
    local cname=$1 t0 out
    shift
    t0=$(cut -d' ' -f1 /proc/uptime)
    [ -n "$CIFSFYI" ] && dmesg -c >/dev/null && echo 1 >/proc/fs/cifs/cifsFYI
    if out=$("$@" 2>&1); then
        echo "KVMTEST PASS $cname ($(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f s", b-a}'))"
    else
        echo "KVMTEST FAIL $cname $(echo "$out" | tail -n 4 | tr '\n' ' ')"
    fi
    if [ -n "$CIFSFYI" ]; then
        echo 0 >/proc/fs/cifs/cifsFYI
        dmesg -c | sed "s/^/KVMTEST INFO fyi-$cname /"
    fi
}

# Drops the guest's page cache, so that the next read goes to the server.
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# size PATH
size() { stat -c %s "$1"; }

# --- the full file suite (first variant) ----------------------------------------------------

c_write_read() {
    dd if=/dev/urandom of=/tmp/data bs=1M count=6 2>/dev/null
    cp /tmp/data "$M/data.bin" || die "cp failed"
    drop_caches
    a=$(sha256sum </tmp/data); b=$(sha256sum <"$M/data.bin")
    [ "$a" = "$b" ] || die "checksum differs after read back"
    [ "$(size "$M/data.bin")" = 6291456 ] || die "size $(size "$M/data.bin")"
    # Odd-sized unaligned writes in the middle, read back.
    printf 'hello, world' | dd of="$M/data.bin" bs=1 seek=1000003 conv=notrunc 2>/dev/null
    drop_caches
    [ "$(dd if="$M/data.bin" bs=1 skip=1000003 count=12 2>/dev/null)" = "hello, world" ] || die "patch not read back"
}

c_append() {
    printf 'abc' >"$M/app.txt" && printf 'def\n' >>"$M/app.txt" && echo ghi >>"$M/app.txt"
    drop_caches
    [ "$(cat "$M/app.txt")" = "abcdef
ghi" ] || die "content: $(cat "$M/app.txt")"
}

c_truncate() {
    seq 1 20000 >"$M/trunc.txt"
    truncate -s 10 "$M/trunc.txt" || die "truncate down failed"
    drop_caches
    [ "$(size "$M/trunc.txt")" = 10 ] || die "size after shrink $(size "$M/trunc.txt")"
    [ "$(cat "$M/trunc.txt")" = "1
2
3
4
5" ] || die "content after shrink"
    truncate -s 100000 "$M/trunc.txt" || die "truncate up failed"
    drop_caches
    [ "$(size "$M/trunc.txt")" = 100000 ] || die "size after extend $(size "$M/trunc.txt")"
    [ "$(tail -c 99990 "$M/trunc.txt" | tr -d '\0' | wc -c)" = 0 ] || die "extension not zero"
    : >"$M/trunc.txt"
    [ "$(size "$M/trunc.txt")" = 0 ] || die "O_TRUNC left $(size "$M/trunc.txt")"
}

c_rename() {
    echo one >"$M/r1" && echo two >"$M/r2"
    mv "$M/r1" "$M/r3" || die "rename failed"
    [ ! -e "$M/r1" ] && [ "$(cat "$M/r3")" = one ] || die "rename result wrong"
    mv -f "$M/r3" "$M/r2" || die "rename over an existing file failed"
    [ "$(cat "$M/r2")" = one ] || die "replaced file has $(cat "$M/r2")"
    mkdir "$M/rdir" && mv "$M/r2" "$M/rdir/moved" || die "move into a directory failed"
    mv "$M/rdir" "$M/rdir2" || die "directory rename failed"
    [ "$(cat "$M/rdir2/moved")" = one ] || die "file lost with its directory"
    ls "$M" | grep -qx rdir && die "old directory name still listed"
    true
}

c_hardlink() {
    echo linked >"$M/h1"
    ln "$M/h1" "$M/h2" || die "ln failed"
    [ "$(stat -c %h "$M/h1")" = 2 ] || die "link count $(stat -c %h "$M/h1")"
    echo more >>"$M/h2"
    drop_caches
    [ "$(cat "$M/h1")" = "linked
more" ] || die "write through the second name not seen"
    rm "$M/h1"
    [ "$(cat "$M/h2")" = "linked
more" ] || die "content lost with the first name"
    [ "$(stat -c %h "$M/h2")" = 1 ] || die "link count after unlink $(stat -c %h "$M/h2")"
}

c_symlink() {
    echo target-data >"$M/target.txt"
    ln -s target.txt "$M/sl" || die "ln -s failed"
    [ "$(readlink "$M/sl")" = target.txt ] || die "readlink: $(readlink "$M/sl")"
    [ -L "$M/sl" ] || die "not a symlink"
    [ "$(cat "$M/sl")" = target-data ] || die "not followed"
    ln -s /no/such/place "$M/dangling" && [ "$(readlink "$M/dangling")" = /no/such/place ] || die "dangling symlink"
    rm "$M/sl" && [ -e "$M/target.txt" ] || die "unlinking the symlink removed its target"
}

c_mkdir_rmdir() {
    mkdir -p "$M/d1/d2/d3" || die "mkdir -p failed"
    [ -d "$M/d1/d2/d3" ] || die "not a directory"
    echo x >"$M/d1/d2/f"
    rmdir "$M/d1/d2" 2>/dev/null && die "rmdir of a non-empty directory succeeded"
    rm "$M/d1/d2/f" && rmdir "$M/d1/d2/d3" "$M/d1/d2" "$M/d1" || die "rmdir failed"
    [ ! -e "$M/d1" ] || die "directory still there"
}

c_readonly() {
    echo keep >"$M/ro.txt"
    chmod 444 "$M/ro.txt" || die "chmod 444 failed"
    drop_caches
    mode=$(stat -c %a "$M/ro.txt")
    case $mode in *[2367]*) die "mode still writable: $mode" ;; esac
    (echo more >>"$M/ro.txt") 2>/dev/null && die "write to a read-only file succeeded"
    # Linux 6.1 does not note READONLY in the inode's DOS attributes after its own chmod 444, so
    # a chmod 644 on that inode sends nothing: once its deferred close is done (1 s), the inode
    # is dropped, and the next lookup reads the attributes from the server.
    sleep 1.2
    drop_caches
    stat "$M/ro.txt" >/dev/null
    chmod 644 "$M/ro.txt" || die "chmod 644 failed"
    drop_caches
    echo "mode after chmod 644: $(stat -c %a "$M/ro.txt")"
    echo more >>"$M/ro.txt" || die "write after chmod 644 failed"
    [ "$(cat "$M/ro.txt")" = "keep
more" ] || die "content $(cat "$M/ro.txt")"
}

c_sparse() {
    f="$M/sparse.bin"
    dd if=/dev/urandom of=/tmp/chunk bs=64k count=1 2>/dev/null
    # 64 KiB across the 4 GiB line (at 4 GiB - 32 KiB) and 64 KiB at 9 GiB + 12 KiB.
    dd if=/tmp/chunk of="$f" bs=32k seek=131071 conv=notrunc 2>/dev/null || die "write at 4 GiB failed"
    dd if=/tmp/chunk of="$f" bs=4k seek=2359299 conv=notrunc 2>/dev/null || die "write at 9 GiB failed"
    drop_caches
    [ "$(size "$f")" = $((9663688704 + 65536)) ] || die "size $(size "$f")"
    want=$(sha256sum </tmp/chunk)
    [ "$(dd if="$f" bs=32k skip=131071 count=2 2>/dev/null | sha256sum)" = "$want" ] || die "data at 4 GiB differs"
    [ "$(dd if="$f" bs=4k skip=2359299 count=16 2>/dev/null | sha256sum)" = "$want" ] || die "data at 9 GiB differs"
    [ "$(dd if="$f" bs=64k skip=1000 count=1 2>/dev/null | tr -d '\0' | wc -c)" = 0 ] || die "hole not zero"
    used=$(stat -c %b "$f")
    echo "allocated $used blocks of 512 bytes"
    rm "$f"
}

c_bigdir() {
    mkdir "$M/big" || die "mkdir failed"
    cd "$M/big" || die "cd failed"
    i=0
    while [ $i -lt "$BIGDIR" ]; do
        : >"f$i" || die "create f$i failed"
        i=$((i + 1))
    done
    cd /
    drop_caches
    n=$(ls "$M/big" | wc -l)
    [ "$n" = "$BIGDIR" ] || die "listed $n of $BIGDIR"
    [ -e "$M/big/f$((BIGDIR - 1))" ] && [ -e "$M/big/f0" ] || die "lookup failed"
    n=$(ls -l "$M/big" | grep -c '^-')
    [ "$n" = "$BIGDIR" ] || die "ls -l listed $n"
}

c_df() {
    line=$(df -k "$M" | tail -n 1)
    echo "KVMTEST INFO df $line" >/dev/console
    total=$(echo "$line" | awk '{print $2}')
    [ "${total:-0}" -gt 0 ] 2>/dev/null || die "df total: $line"
}

# rm of an open file: the data stays readable through the open descriptor and the name is gone
# once it is closed. (Without POSIX extensions the name may stay visible until then: the server
# keeps it delete-pending as Windows does, so this case does not check in between.)
c_unlink_open() {
    echo open-data >"$M/held"
    exec 3<"$M/held"
    rm "$M/held" || die "rm of an open file failed"
    read -r line <&3
    exec 3<&-
    [ "$line" = open-data ] || die "read from the unlinked file: $line"
    sleep 1.2
    [ -e "$M/held" ] && die "still there after the last close: $(ls -l "$M/held" 2>&1)"
    echo new >"$M/held" && [ "$(cat "$M/held")" = new ] || die "the name cannot be used again"
}

FULL_CASES=${FULL:-write_read append truncate rename hardlink symlink mkdir_rmdir readonly unlink_open sparse bigdir df}

# --- every variant: a quick round trip ------------------------------------------------------

c_quick() {
    dd if=/dev/urandom of=/tmp/q bs=64k count=24 2>/dev/null
    cp /tmp/q "$M/q.bin" || die "write failed"
    drop_caches
    [ "$(sha256sum <"$M/q.bin")" = "$(sha256sum </tmp/q)" ] || die "checksum differs"
    mv "$M/q.bin" "$M/q2.bin" && mkdir "$M/qd" && ls "$M" | grep -qx q2.bin || die "rename or list failed"
    rm "$M/q2.bin" && rmdir "$M/qd" || die "delete failed"
    grep -q "$1" /proc/fs/cifs/DebugData || die "DebugData lacks '$1'"
}

# Multichannel: max_channels=4 and four advertised addresses: the session must show 4 channels.
c_channels() {
    dd if=/dev/zero of="$M/mc.bin" bs=1M count=8 2>/dev/null && drop_caches && cat "$M/mc.bin" >/dev/null || die "io failed"
    rm "$M/mc.bin"
    n=$(grep -o 'Extra Channels: [0-9]*' /proc/fs/cifs/DebugData | head -n 1 | awk '{print $3}')
    [ "${n:-0}" -ge 3 ] || die "fewer than 4 channels (Extra Channels: ${n:-none}; see the DebugData INFO lines)"
    echo "KVMTEST INFO channels extra=$n"
}

dump_debugdata() {
    sed 's/^/KVMTEST INFO debugdata /' /proc/fs/cifs/DebugData
}

# do_mount HOST SHARE OPTIONS MOUNTPOINT (a Kerberos mount gets the user name, which Linux 6.1
# insists on, but no password: the kernel asks cifs.upcall for a ticket from $KRB5CCNAME)
do_mount() {
    mkdir -p "$4"
    case $3 in
    *sec=krb5*) creds="username=$USER," ;;
    *) creds="username=$USER,password=$PASS," ;;
    esac
    timeout 60 mount -t cifs "//$1/$2" "$4" -o "port=$PORT,$creds$3"
}

first=1
echo "$VARIANTS" | tr ';' '\n' >/tmp/variants
while IFS='|' read -r vname share opts expect host; do
    [ -n "$vname" ] || continue
    M=/mnt/$vname
    [ -n "$host" ] && echo "KVMTEST INFO resolve $(ping -c 1 -W 1 "$host" 2>&1 | head -n 1)"
    if ! out=$(do_mount "${host:-$SERVER}" "$share" "$opts" "$M" 2>&1); then
        echo "KVMTEST FAIL $vname mount -o $opts: $(echo "$out" | tr '\n' ' ') $(dmesg | grep -i cifs | tail -n 3 | tr '\n' ' ')"
        [ -f /tmp/messages ] && sed 's/^/KVMTEST INFO syslog /' /tmp/messages
        first=0
        continue
    fi
    echo "KVMTEST INFO mount $vname //${host:-$SERVER}/$share -o $opts"
    if [ $first = 1 ]; then
        for c in $FULL_CASES; do case_run "${vname}_$c" "c_$c"; done
        first=0
    fi
    case_run "$vname" c_quick "$expect"
    case $opts in *multichannel*) case_run "${vname}_channels" c_channels ;; esac
    case $opts in *multichannel* | *seal* | *sign*) dump_debugdata ;; esac
    umount "$M" || echo "KVMTEST FAIL ${vname}_umount $(umount "$M" 2>&1)"
done </tmp/variants

dmesg | grep -iE 'cifs|smb' | tail -n 20 | sed 's/^/KVMTEST INFO dmesg /'
echo "KVMTEST DONE"
sync
poweroff -f
