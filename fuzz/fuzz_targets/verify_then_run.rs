//! Any program the verifier accepts must load and run in the VM without a memory fault; only
//! the instruction budget may stop it. Input: one byte choosing the program type, then
//! bytecode. See `bpfx_fuzz::verify_then_run` (fuzz/src/targets.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bpfx_fuzz::verify_then_run(data));
