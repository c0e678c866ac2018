#!/bin/sh
# Runs inside the emulated AMD-V machine (busybox sh), from the payload at /kit.
# Each check prints a section the host-side test parses:
#   @@@ check NAME
#   @@@ stdout / ... / @@@ stderr / ... / @@@ files / ... / @@@ status N
# With the argument "gdb", the last check is debugged by gdb on the host.
check() {
    name=$1
    shift
    dir=/tmp/$name
    mkdir -p "$dir"
    (cd "$dir" && "$@" >/tmp/out 2>/tmp/err)
    status=$?
    echo "@@@ check $name"
    echo "@@@ stdout"
    cat /tmp/out
    echo "@@@ stderr"
    cat /tmp/err
    echo "@@@ files"
    for file in "$dir"/*; do
        [ -f "$file" ] && echo "$(basename "$file") $(od -An -tx1 -v "$file" | tr -d ' \n')"
    done
    echo "@@@ status $status"
}

check reference /kit/solutions/vm_manager --verbose
check reference_ring0 /kit/solutions/vm_manager --ring 0
check skeleton /kit/lab2/vm_manager --max-exits 200
check exit_status /kit/solutions/vm_manager /kit/programs/exit_status 42
check privilege_level /kit/solutions/vm_manager /kit/programs/privilege_level
check wild_store /kit/solutions/vm_manager /kit/programs/wild_store
check user_hlt /kit/solutions/vm_manager /kit/programs/user_hlt
check vector_sum /kit/solutions/vm_manager /kit/programs/vector_sum
check user_pointers /kit/solutions/vm_manager --trace /tmp/user_pointers.trace /kit/programs/user_pointers
check thread_pointer /kit/solutions/vm_manager /kit/programs/thread_pointer
check null_write /kit/solutions/vm_manager /kit/programs/null_write
check rodata_write /kit/solutions/vm_manager /kit/programs/rodata_write
check forge_out /kit/solutions/vm_manager /kit/programs/forge_exception out
check forge_jump /kit/solutions/vm_manager /kit/programs/forge_exception jump
check own_int3 /kit/solutions/vm_manager /kit/programs/own_int3
check step_ring3 /kit/solutions/vm_manager --step=3 --boot /kit/vm_src/boot.bin /kit/vm_src/app
check arch_prctl_no_op /kit/variants/arch_prctl_no_op --boot /kit/vm_src/boot.bin /kit/vm_src/app
check arch_prctl_enosys /kit/variants/arch_prctl_enosys --boot /kit/vm_src/boot.bin /kit/vm_src/app

# gdb on the host debugs vm_manager --gdb in here. The machine has no network
# card: its second serial port (run.sh --serial2) carries gdb's packets, and
# busybox nc relays them to the VMM on the loopback interface.
gdb_check() {
    dir=/tmp/gdb
    mkdir -p "$dir"
    ifconfig lo 127.0.0.1 up
    exec 3<>/dev/ttyS1
    stty -F /dev/ttyS1 raw -echo 115200
    (cd "$dir" && exec /kit/solutions/vm_manager --gdb 1234 >/tmp/out 2>/tmp/err) &
    vmm=$!
    # Listening: /proc/net/tcp shows 127.0.0.1:1234 (0100007F:04D2) in state 0A.
    while ! grep -q ':04D2 00000000:0000 0A' /proc/net/tcp; do sleep 0.1; done
    # The host starts gdb once it reads this line on the serial port.
    printf '@@@ gdb-ready\n' >&3
    nc 127.0.0.1 1234 <&3 >&3 &
    wait $vmm
    status=$?
    echo "@@@ check gdb"
    echo "@@@ stdout"
    cat /tmp/out
    echo "@@@ stderr"
    cat /tmp/err
    echo "@@@ files"
    for file in "$dir"/*; do
        [ -f "$file" ] && echo "$(basename "$file") $(od -An -tx1 -v "$file" | tr -d ' \n')"
    done
    echo "@@@ status $status"
}
# Only when the host gave the machine the serial port for it (run.sh --serial2).
[ "${1:-}" = gdb ] && gdb_check
