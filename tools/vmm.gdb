# vmm.gdb: gdb's settings and commands for the micro-VM (make debug loads it).
#
#   mode            the CPU's mode (real, protected, long) and its ring
#   monitor help    what vm_manager itself answers
#
# Registers: `info registers cr0 cr4 efer` names the bits that are set,
# e.g. cr0 0x80000033 [ PE MP ET NE PG ].
#
# gdb decodes every instruction as 64-bit code on this 64-bit machine: while
# the CPU is still in real mode (start16) or in 32-bit protected mode
# (start32), `x/i` shows other instructions than those that run. Follow
# boot.asm's lines instead: gdb shows the line of each stop, and `list`
# shows the lines around it.

set pagination off
# Quitting gdb ends the run (the VMM exits with status 137); `detach` first
# lets the program run on to its end.
set confirm off
# make debug starts gdb and the VMM together: wait for the VMM to listen.
set tcp connect-timeout 15

define mode
  monitor mode
end
document mode
Print the CPU's mode (real, protected, long, or compatibility mode) and the
ring it runs in (0: kernel, 3: user), as vm_manager reads them from KVM.
end
