//! Shared by the integration tests: skip cleanly where bpf() is not usable.

/// True when the kernel can be used; otherwise prints why the caller skips.
pub fn kernel_available(test: &str) -> bool {
    match kernel::probe::availability() {
        Ok(()) => true,
        Err(reason) => {
            println!("skipped: kernel unavailable ({reason}) [{test}]");
            false
        }
    }
}
