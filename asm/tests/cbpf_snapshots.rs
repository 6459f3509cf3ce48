//! Readable disassembly of corpus filters, pinned with insta.

use asm::cbpf::{self, bpf_asm, seccomp};
use std::path::{Path, PathBuf};

fn load(name: &str) -> Option<Vec<cbpf::SockFilter>> {
    let dir = std::env::var_os("BPFX_SECCOMP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seccomp"));
    let p = dir.join(name);
    match std::fs::read(&p) {
        Ok(b) => Some(cbpf::decode(&b).unwrap()),
        Err(_) => {
            println!("skipped: {} not found", p.display());
            None
        }
    }
}

macro_rules! readable {
    ($test:ident, $file:expr) => {
        #[test]
        fn $test() {
            let Some(p) = load($file) else { return };
            insta::assert_snapshot!(seccomp::disassemble(&p, seccomp::Arch::X86_64));
        }
    };
}

readable!(tiny_allowlist, "tiny-allowlist.bpf");
readable!(args_denylist, "args-denylist.bpf");
readable!(multiarch, "multiarch-x86_64-x86-x32.bpf");
readable!(notify_getpid, "notify-getpid.bpf");
readable!(openssh_preauth, "openssh-preauth-x86_64.bpf");
readable!(ceccomp_multi_arch, "thirdparty/ceccomp/bpf/multi_arch.bpf");

#[test]
fn args_denylist_bpf_asm() {
    let Some(p) = load("args-denylist.bpf") else {
        return;
    };
    insta::assert_snapshot!(bpf_asm::disassemble(&p));
}
