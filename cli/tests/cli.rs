//! End-to-end behaviour of the `bpfx` binary: formats, exit codes, round trips.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bpfx(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bpfx runs");
    // A command that fails before reading its input (a usage error) closes the pipe early;
    // the exit status is what the test checks then.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

const PROG: &str =
    "r0 = 42\nr1 = 0x1122334455667788 ll\nif r1 > 16 goto +1\nexit\nr0 += -1\nexit\n";

#[test]
fn hex_output_and_disasm_round_trip() {
    let hex = bpfx(&["asm", "--format", "hex"], PROG.as_bytes());
    assert!(
        hex.status.success(),
        "{}",
        String::from_utf8_lossy(&hex.stderr)
    );
    let hex_text = String::from_utf8(hex.stdout).unwrap();
    assert_eq!(hex_text.lines().next(), Some("b7 00 00 00 2a 00 00 00"));
    assert_eq!(
        hex_text.lines().nth(1),
        Some("18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11")
    );
    let dis = bpfx(&["disasm", "--input", "hex"], hex_text.as_bytes());
    assert!(dis.status.success());
    let text = String::from_utf8(dis.stdout).unwrap();
    // Reassembling the disassembly gives the same bytes.
    let raw1 = bpfx(&["asm", "--format", "raw"], PROG.as_bytes()).stdout;
    let raw2 = bpfx(&["asm", "--format", "raw"], text.as_bytes()).stdout;
    assert_eq!(raw1, raw2);
    assert_eq!(raw1.len(), 7 * 8);
}

#[test]
fn raw_input_disassembles_in_every_dialect() {
    let raw = bpfx(&["asm"], PROG.as_bytes()).stdout;
    for dialect in ["llvm", "kernel", "ubpf"] {
        let out = bpfx(&["disasm", "--dialect", dialect], &raw);
        assert!(out.status.success(), "{dialect}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), 6, "{dialect}:\n{text}");
        let asm_dialect = if dialect == "ubpf" { "ubpf" } else { "llvm" };
        let again = bpfx(&["asm", "--dialect", asm_dialect], text.as_bytes());
        assert_eq!(again.stdout, raw, "{dialect} does not reassemble:\n{text}");
    }
}

#[test]
fn formats() {
    let c = String::from_utf8(bpfx(&["asm", "--format", "c"], PROG.as_bytes()).stdout).unwrap();
    assert!(c.contains("struct bpf_insn prog[]"));
    // The C initialiser's text is what is under test: `mov r0, 42`'s opcode in hex.
    let want = format!(
        "{{ .code = {:#04x}, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 42 }},",
        asm::isa::op::MOV64_IMM
    );
    assert!(c.contains(&want), "{c}");
    assert_eq!(c.matches(".code =").count(), 7, "lddw takes two entries");
    let rust =
        String::from_utf8(bpfx(&["asm", "--format", "rust"], PROG.as_bytes()).stdout).unwrap();
    assert!(rust.starts_with("pub const PROG: [u8; 56] = ["), "{rust}");
    let json = bpfx(&["asm", "--format", "json"], PROG.as_bytes()).stdout;
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["slots"], 7);
    assert_eq!(v["insns"][1]["imm"], 0x1122334455667788i64);
    assert_eq!(v["insns"][0]["bytes"], "b70000002a000000");
}

#[test]
fn pc_and_bytes_columns() {
    let raw = bpfx(&["asm"], PROG.as_bytes()).stdout;
    let out = String::from_utf8(bpfx(&["disasm", "--pc", "--bytes"], &raw).stdout).unwrap();
    let lines: Vec<_> = out.lines().collect();
    assert!(
        lines[0].starts_with("    0:\tb7 00 00 00 2a 00 00 00\t"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("    2:\t00 00 00 00 44 33 22 11"),
        "{out}"
    );
}

#[test]
fn exit_codes() {
    assert_eq!(bpfx(&["asm"], b"r0 = 1\nexit\n").status.code(), Some(0));
    assert_eq!(bpfx(&["asm"], b"r0 = \n").status.code(), Some(1));
    assert_eq!(bpfx(&["asm", "--no-such-flag"], b"").status.code(), Some(2));
    assert_eq!(
        bpfx(&["asm", "/no/such/file.s"], b"").status.code(),
        Some(2)
    );
    // Undecodable bytes: rejected input. The byte is what is under test: 0x8e
    // (BPF_JMP32 | BPF_CALL | BPF_X) is no instruction.
    let bad = bpfx(&["disasm", "--input", "raw"], &[0x8e, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("instruction 0 (byte offset 0): unknown opcode 0x8e"),
        "{err}"
    );
}

#[test]
fn classic_dialects_through_asm_and_disasm() {
    let src = b"ldh [12]\njeq #0x800, ok, drop\nok: ret #-1\ndrop: ret #0\n";
    let c = bpfx(&["asm", "--dialect", "bpf_asm", "--format", "c"], src);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(
        String::from_utf8(c.stdout).unwrap(),
        "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x06, 0, 0, 0xffffffff },\n{ 0x06, 0, 0, 0x00000000 },\n"
    );
    let raw = bpfx(&["asm", "--dialect", "bpf_asm"], src).stdout;
    assert_eq!(raw.len(), 4 * 8);
    let text = bpfx(&["disasm", "--dialect", "bpf_asm"], &raw).stdout;
    assert_eq!(
        bpfx(&["asm", "--dialect", "bpf_asm"], &text).stdout,
        raw,
        "bpf_asm round trip"
    );
    // The readable seccomp form names syscalls and actions.
    let filter =
        b".arch x86_64\nA = sys_number\nif (A == openat) goto deny\nreturn ALLOW\ndeny: return ERRNO(13)\n";
    let raw = bpfx(&["asm", "--dialect", "seccomp"], filter).stdout;
    let shown = String::from_utf8(bpfx(&["disasm", "--dialect", "seccomp"], &raw).stdout).unwrap();
    assert!(
        shown.contains("openat") && shown.contains("ERRNO(13)"),
        "{shown}"
    );
    // eBPF-only format with an eBPF dialect is a usage error.
    assert_eq!(
        bpfx(&["asm", "--format", "bpfasm"], b"exit\n")
            .status
            .code(),
        Some(2)
    );
    // An undefined label is rejected input.
    assert_eq!(
        bpfx(&["asm", "--dialect", "bpf_asm"], b"ja nowhere\n")
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn readme_quick_start_runs_the_main_binary() {
    // The README's first command is `cargo run -p bpfx -- asm ...`: with a second binary in
    // the package (bpfx-conformance), `default-run` must name `bpfx`.
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let package = manifest.split("[[bin]]").next().unwrap();
    assert!(package.contains("default-run = \"bpfx\""), "{package}");
}
