//! CO-RE in the CLI: `disasm --relocs`, and `verify` of an object relocated against
//! `--btf FILE` or the running kernel's BTF.

use std::process::{Command, Output};

fn bpfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf"))
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn disasm_relocs_lists_each_relocation_and_its_result() {
    let o = bpfx(&[
        "disasm",
        "--relocs",
        "core_read.bpf.o",
        "--btf",
        "core_target.bpf.o",
    ]);
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    assert!(
        s.starts_with("CO-RE relocations against core_target.bpf.o:\n"),
        "{s}"
    );
    assert!(
        s.contains("read_all           116  byte_off        struct sample::cnt (0:8)  56 -> 84"),
        "{s}"
    );
    assert!(
        s.contains("read_all            79  byte_off        struct sample::u2 (0:6:1)  44 -> 72"),
        "{s}"
    );
    let o = bpfx(&["disasm", "--relocs", "xdp_count.bpf.o"]);
    assert_eq!(text(&o), "no CO-RE relocations\n");
}

#[test]
fn verify_sees_the_relocated_program() {
    // The read of a field the target lacks is poisoned; it is reachable, so the verifier
    // rejects it the way the kernel does.
    let o = bpfx(&["verify", "core_read.bpf.o", "--btf", "core_target.bpf.o"]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(1), "{s}");
    assert!(s.contains("invalid func unknown#195896080"), "{s}");
    // An unreadable target names the first relocation.
    let o = bpfx(&["verify", "core_read.bpf.o", "--btf", "nonexistent.btf"]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(1), "{s}");
    assert!(s.contains("program `read_all` has a CO-RE relocation (byte_off of struct sample, access 0:1) at insn 1, and no target BTF is available"), "{s}");
}

#[test]
fn verify_against_the_running_kernel() {
    if std::fs::metadata("/sys/kernel/btf/vmlinux").is_err() {
        return println!("skipped: no /sys/kernel/btf/vmlinux");
    }
    // The missing field's read is guarded by bpf_core_field_exists: dead code.
    let o = bpfx(&["verify", "core_kernel.bpf.o"]);
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    assert!(s.starts_with("accepted"), "{s}");
}
