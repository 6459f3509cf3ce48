//! See `bpfx_fuzz::btf` (fuzz/src/targets.rs): the input is the `.BTF` section of
//! testdata/elf/hello.bpf.o.
#![no_main]

use libfuzzer_sys::fuzz_target;

static SEED: &[u8] = include_bytes!("../../testdata/elf/hello.bpf.o");

fuzz_target!(|data: &[u8]| bpfx_fuzz::btf(SEED, data));
