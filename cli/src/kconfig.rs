//! `--kconfig FILE`: the kernel configuration an object's `__kconfig` externs take their
//! values from in the VM and the verifier (`bpfx run`, `bpfx verify`), as libbpf would
//! from `/proc/config.gz` — given as a file so that a run does not depend on the host.

use crate::exit::Rejected;
use anyhow::Result;
use obj::externs::KernelConfig;
use obj::Object;
use std::path::Path;

/// Resolves the object's `__kconfig` externs from the configuration file (its
/// `CONFIG_*=` lines, and `LINUX_KERNEL_VERSION=`, `LINUX_HAS_BPF_COOKIE=`,
/// `LINUX_HAS_SYSCALL_WRAPPER=` for libbpf's specials). Nothing to do without a file.
pub fn apply(obj: &mut Object, file: Option<&Path>, name: &str) -> Result<()> {
    let Some(path) = file else {
        return Ok(());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("--kconfig {}: {e}", path.display()))?;
    let config = KernelConfig::parse(&text)
        .map_err(|e| Rejected(format!("--kconfig {}: {e}", path.display())))?;
    obj.resolve_kconfig(&config)
        .map_err(|e| Rejected(format!("{name}: {e}")))?;
    Ok(())
}
