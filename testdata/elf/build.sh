#!/bin/sh
# Rebuilds the checked-in test objects from their C sources. Needs clang-19 (Debian
# package `clang-19`); the tests use the checked-in objects and need no compiler.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
for src in *.bpf.c bad/*.bpf.c; do
	[ "$src" = core_kernel.bpf.c ] && continue
	obj=${src%.c}.o
	"$CLANG" -O2 -g -target bpf -mcpu=v3 -c "$src" -o "$obj"
	echo "built $obj"
done
# Bad on purpose: BTF-defined maps without the BTF that describes them (no -g).
"$CLANG" -O2 -target bpf -mcpu=v3 -c xdp_count.bpf.c -o bad/no_btf.bpf.o
echo "built bad/no_btf.bpf.o"
# CO-RE: core_read.bpf.c relocated against core_target.bpf.c's BTF. Both include libbpf's
# <bpf/bpf_helpers.h> and <bpf/bpf_core_read.h> (Debian package `libbpf-dev`); they are
# built by the loop above. core_kernel.bpf.c needs a vmlinux.h of the building host's
# kernel (not checked in; needs `bpftool`), and is stripped of DWARF (its .BTF and
# .BTF.ext stay).
VMLINUX_DIR=$(mktemp -d)
bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$VMLINUX_DIR/vmlinux.h"
"$CLANG" -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I"$VMLINUX_DIR" -c core_kernel.bpf.c -o core_kernel.bpf.o
llvm-strip-19 --strip-debug core_kernel.bpf.o
rm -r "$VMLINUX_DIR"
echo "built core_kernel.bpf.o"
