//! See `bpfx_fuzz::test_file` (fuzz/src/targets.rs): no panic, bounded output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bpfx_fuzz::test_file(data));
