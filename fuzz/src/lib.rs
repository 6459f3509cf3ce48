//! Fuzz target bodies, shared by `fuzz_targets/` (libFuzzer) and the workspace's smoke test
//! (`cli/tests/fuzz_smoke.rs`).

mod targets;

pub use targets::*;
