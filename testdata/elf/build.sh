#!/bin/sh
# Rebuilds the checked-in test objects from their C sources. Needs clang-19 (Debian
# package `clang-19`); the tests use the checked-in objects and need no compiler.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
for src in *.bpf.c bad/*.bpf.c; do
	obj=${src%.c}.o
	"$CLANG" -O2 -g -target bpf -mcpu=v3 -c "$src" -o "$obj"
	echo "built $obj"
done
# Bad on purpose: BTF-defined maps without the BTF that describes them (no -g).
"$CLANG" -O2 -target bpf -mcpu=v3 -c xdp_count.bpf.c -o bad/no_btf.bpf.o
echo "built bad/no_btf.bpf.o"
# CO-RE: core_read.bpf.c relocated against core_target.bpf.c's BTF. Both include libbpf's
# <bpf/bpf_helpers.h> and <bpf/bpf_core_read.h> (Debian package `libbpf-dev`); they are
# built by the loop above.
