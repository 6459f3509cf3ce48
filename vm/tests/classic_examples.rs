//! The filters of examples/seccomp: they assemble, pass the kernel's rules, give the
//! documented actions in the emulator, and (when seccomp is usable) the same in the kernel.

use asm::cbpf::check::{check, Mode};
use asm::cbpf::seccomp::{self, Action, Arch};
use asm::cbpf::SockFilter;
use kernel::seccomp as ks;
use std::path::Path;
use vm::classic::{run_seccomp, SeccompData};

fn example(name: &str) -> Vec<SockFilter> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/seccomp")
        .join(name);
    let src = std::fs::read_to_string(&p).unwrap();
    let prog = seccomp::assemble(&src).unwrap_or_else(|e| panic!("{}: {e:?}", p.display()));
    check(&prog, Mode::Seccomp).unwrap();
    // The readable form round-trips.
    assert_eq!(
        seccomp::assemble(&seccomp::disassemble(&prog, Arch::X86_64)).unwrap(),
        prog
    );
    prog
}

fn action(prog: &[SockFilter], arch: Arch, name: &str, args: [u64; 6]) -> Action {
    let nr = arch
        .syscall_nr(name)
        .unwrap_or_else(|| panic!("{name} on {arch}"));
    let d = SeccompData {
        nr,
        arch: arch.audit(),
        instruction_pointer: 0,
        args,
    };
    Action::from_ret(run_seccomp(prog, &d).unwrap().ret)
}

/// Compares emulator and kernel for (syscall, args) cases on x86_64.
fn against_kernel(prog: &[SockFilter], cases: &[(&str, [u64; 6])]) {
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    let ip = ks::test_site_ip();
    for &(name, args) in cases {
        let nr = Arch::X86_64.syscall_nr(name).unwrap();
        let d = SeccompData {
            nr,
            arch: Arch::X86_64.audit(),
            instruction_pointer: ip,
            args,
        };
        let want = ks::expected(&[run_seccomp(prog, &d).unwrap().ret]);
        let got = ks::run(&[prog.to_vec()], nr, args).unwrap();
        assert_eq!(want, got, "{name} {args:x?}");
    }
}

#[test]
fn server_allowlist() {
    let p = example("server-allowlist.seccomp");
    let a = |n: &str, args: [u64; 6]| action(&p, Arch::X86_64, n, args);
    assert_eq!(a("read", [0; 6]), Action::Allow);
    assert_eq!(a("accept4", [0; 6]), Action::Allow);
    assert_eq!(a("openat", [0; 6]), Action::KillProcess);
    assert_eq!(a("socket", [2, 1, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(a("socket", [17, 3, 0, 0, 0, 0]), Action::Errno(97));
    assert_eq!(a("socket", [1 << 32 | 2, 1, 0, 0, 0, 0]), Action::Errno(97));
    assert_eq!(a("mmap", [0, 4096, 3, 0, 0, 0]), Action::Allow);
    assert_eq!(a("mmap", [0, 4096, 5, 0, 0, 0]), Action::Errno(1));
    assert_eq!(action(&p, Arch::X32, "read", [0; 6]), Action::KillProcess);
    assert_eq!(action(&p, Arch::I386, "read", [0; 6]), Action::KillProcess);
    against_kernel(
        &p,
        &[
            ("read", [0; 6]),
            ("openat", [0; 6]),
            ("socket", [17, 3, 0, 0, 0, 0]),
            ("mmap", [0, 4096, 7, 0, 0, 0]),
        ],
    );
}

#[test]
fn denylist_with_argument_checks() {
    let p = example("denylist-args.seccomp");
    let a = |n: &str, args: [u64; 6]| action(&p, Arch::X86_64, n, args);
    assert_eq!(a("read", [0; 6]), Action::Allow);
    assert_eq!(a("ptrace", [0; 6]), Action::Errno(1));
    assert_eq!(a("unshare", [0; 6]), Action::Trap(1));
    assert_eq!(a("mprotect", [0, 4096, 1, 0, 0, 0]), Action::Allow);
    assert_eq!(a("mprotect", [0, 4096, 5, 0, 0, 0]), Action::Errno(1));
    assert_eq!(a("clone", [0x1000_0011, 0, 0, 0, 0, 0]), Action::Errno(1));
    assert_eq!(a("clone", [0x11, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(a("openat", [0, 0, 0x41, 0, 0, 0]), Action::Errno(13));
    assert_eq!(a("openat", [0, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(a("socket", [17, 3, 0, 0, 0, 0]), Action::Errno(97));
    assert_eq!(action(&p, Arch::Aarch64, "ptrace", [0; 6]), Action::Allow);
    against_kernel(
        &p,
        &[
            ("unshare", [0; 6]),
            ("mprotect", [0, 4096, 5, 0, 0, 0]),
            ("clone", [0x1000_0011, 0, 0, 0, 0, 0]),
            ("openat", [0, 0, 0x41, 0, 0, 0]),
            ("openat", [0, 0, 0, 0, 0, 0]),
        ],
    );
}

#[test]
fn multiarch() {
    let p = example("multiarch.seccomp");
    for arch in [Arch::X86_64, Arch::I386, Arch::Aarch64] {
        for name in ["write", "getpid", "exit_group"] {
            assert_eq!(
                action(&p, arch, name, [0; 6]),
                Action::Allow,
                "{name} on {arch}"
            );
        }
        assert_eq!(
            action(&p, arch, "kill", [0; 6]),
            Action::Errno(38),
            "kill on {arch}"
        );
    }
    assert_eq!(
        action(&p, Arch::I386, "socketcall", [0; 6]),
        Action::Errno(1)
    );
    assert_eq!(action(&p, Arch::X32, "write", [0; 6]), Action::Errno(38));
    assert_eq!(action(&p, Arch::Arm, "write", [0; 6]), Action::KillProcess);
    // getpid is 39 on x86_64, 20 on i386 and 172 on aarch64: each branch uses its own.
    let d = |nr, arch: Arch| SeccompData {
        nr,
        arch: arch.audit(),
        ..Default::default()
    };
    assert_eq!(
        Action::from_ret(run_seccomp(&p, &d(172, Arch::Aarch64)).unwrap().ret),
        Action::Allow
    );
    assert_eq!(
        Action::from_ret(run_seccomp(&p, &d(172, Arch::X86_64)).unwrap().ret),
        Action::Errno(38)
    );
    against_kernel(&p, &[("write", [0; 6]), ("kill", [0; 6])]);
}
