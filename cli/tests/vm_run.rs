//! `bpfx run`, `bpfx conformance` and the `bpfx-conformance` plugin, end to end.

use std::io::Write;
use std::process::{Command, Stdio};

fn bpfx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
}

fn tmp(name: &str, content: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfx-vm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn run_prints_r0_meaning_and_trace_printk() {
    // "Hi\n" on the stack, trace_printk, then XDP_PASS.
    let src = "mov %r1, 0x0a6948\nstxw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4\ncall 6\nmov %r0, 2\nexit\n";
    let p = tmp("hi.asm", src.as_bytes());
    let pkt = tmp("pkt.bin", &[0; 14]);
    let out = bpfx()
        .args(["run", "--type", "xdp", "--packet"])
        .arg(&pkt)
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("bpf_trace_printk: Hi\n"), "{stdout}");
    assert!(stdout.contains("r0 = 0x2 (2) (XDP_PASS)"), "{stdout}");
    assert!(stdout.contains("8 instructions executed"), "{stdout}");
}

#[test]
fn run_json_with_repeat_and_raw_bytecode() {
    // r0 = 42; exit as raw bytecode: the binary input form is what is under test.
    let prog = asm::encode(&[asm::Insn::mov64_imm(0, 42), asm::Insn::exit()]);
    let p = tmp("p.bin", &prog);
    let out = bpfx()
        .args(["run", "--json", "--repeat", "10"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["r0"], "0x2a");
    assert_eq!(v["insns"], 2);
    assert!(v["ns_per_run"].as_f64().unwrap() > 0.0);
    assert!(v["ns_per_insn"].as_f64().unwrap() > 0.0);
}

#[test]
fn run_exit_codes() {
    let p = tmp("fault.asm", b"ldxw %r0, [%r1]\nexit\n");
    let out = bpfx()
        .args(["run", "--mem-hex", "0102"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("instruction 0: read of 4 bytes") && err.contains("--> 0: ldxw %r0, [%r1]"),
        "{err}"
    );
    let out = bpfx()
        .args(["run", "--type", "nope"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bpfx()
        .args(["run", "--packet"])
        .arg(&p)
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--packet needs a packet program type"
    );
}

#[test]
fn conformance_subcommand_counts() {
    let dir = std::env::temp_dir().join(format!("bpfx-vm-cli-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.data"),
        "-- asm\nmov %r0, 3\nexit\n-- result\n0x3\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.data"),
        "-- asm\nldxb %r0, [%r1]\nexit\n-- mem\n07\n-- result\n0x8\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.data"),
        "-- asm\nldxb %r0, [%r1+1]\nexit\n-- mem\n07\n-- error\nout of bounds\n",
    )
    .unwrap();
    let out = bpfx().arg("conformance").arg(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.ends_with("2 passed, 1 failed\n"), "{stdout}");
    assert!(
        stdout.contains("b.data: r0 is 0x7, expected 0x8"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn conformance_plugin_protocol() {
    let run = |mem: &str, prog: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bpfx-conformance"))
            .arg(mem)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(prog.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    // ldxb r0, [r1+1]; exit over memory 01 ff.
    let out = run(
        "01ff",
        "71  10  01  00  00  00  00  00  95  00  00  00  00  00  00  00  ",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ff\n");
    let out = run(
        "",
        "71  10  01  00  00  00  00  00  95  00  00  00  00  00  00  00  ",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("null pointer"));
}

#[test]
fn official_suites_through_the_subcommand() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let suite = root.join("bpf_conformance/tests");
    if !suite.exists() {
        println!("skipped: {} not found", suite.display());
        return;
    }
    let out = bpfx().arg("conformance").arg(&suite).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.ends_with("313 passed, 0 failed\n"), "{stdout}");
}

#[test]
fn run_with_maps_shows_their_contents() {
    // map_update_elem(map 0, &1, &77, BPF_ANY), then ringbuf_output(map 1, &77, 8, 0).
    let src = "stw [%r10-4], 1\nstdw [%r10-16], 77\nlddw map_fd %r1, 0\nmov %r2, %r10\nadd %r2, -4\n\
               mov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nlddw map_fd %r1, 1\nmov %r2, %r10\nadd %r2, -16\n\
               mov %r3, 8\nmov %r4, 0\ncall 130\nexit\n";
    let p = tmp("maps.asm", src.as_bytes());
    let out = bpfx()
        .args(["run", "--map", "hash:4:8:4", "--map", "ringbuf:0:0:4096"])
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("map 0 (hash): 1 entries\n  01000000 => 4d00000000000000\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("map 1 (ringbuf): 1 entries\n  record 4d00000000000000\n"),
        "{stdout}"
    );
    let out = bpfx()
        .args(["run", "--map", "ringbuf:0:0:1000"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("power of 2"));
}

fn elf(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/elf")
        .join(name)
}

fn run_ok(args: &[&str]) -> String {
    let out = bpfx().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn run_err(args: &[&str]) -> String {
    let out = bpfx().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn run_object_by_section_or_program() {
    let o = elf("xdp_count.bpf.o");
    let o = o.to_str().unwrap();
    // Ethernet + IPv4, protocol 6 (TCP): counted in the `counts` hash map, XDP_PASS.
    let mut pkt = vec![0u8; 34];
    pkt[12] = 0x08;
    pkt[23] = 6;
    let pkt = tmp("tcp34.bin", &pkt);
    let pkt = pkt.to_str().unwrap();
    for choose in [["--section", "xdp"], ["--program", "count_proto"]] {
        let out = run_ok(&["run", o, choose[0], choose[1], "--packet", pkt]);
        assert!(out.contains("map 0 `counts` (hash): 1 entries"), "{out}");
        assert!(out.contains("06000000 => 0100000000000000"), "{out}");
        assert!(out.contains("r0 = 0x2 (2) (XDP_PASS)"), "{out}");
    }
    // An object with one program needs no choice; the type comes from the section.
    let out = run_ok(&["run", elf("hello.bpf.o").to_str().unwrap()]);
    assert!(out.contains("bpf_trace_printk: Hello, BPF World!"), "{out}");
    assert!(out.contains("not passed on to perf"), "{out}");
}

#[test]
fn run_object_global_data_and_json() {
    let o = elf("globals.bpf.o");
    let out = run_ok(&["run", o.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["type"], "xdp");
    let names: Vec<_> = v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&".rodata".to_string()), "{names:?}");
    assert!(names.contains(&".data".to_string()), "{names:?}");
    // .rodata was initialised from the object.
    let rodata = &v["maps"][0]["entries"][0]["value"];
    assert_ne!(rodata.as_str().unwrap().trim_matches('0'), "", "{v}");
}

#[test]
fn run_object_type_override_and_errors() {
    let o = elf("tail_call.bpf.o");
    let o = o.to_str().unwrap();
    let e = run_err(&["run", o]);
    assert!(
        e.contains("has 3 programs: choose one with --section or --program"),
        "{e}"
    );
    assert!(e.contains("--program dispatch"), "{e}");
    assert!(e.contains("--program drop_all"), "{e}");
    let e = run_err(&["run", o, "--section", "nope"]);
    assert!(
        e.contains("has no section `nope`; its programs are:"),
        "{e}"
    );
    let e = run_err(&["run", o, "--program", "nope"]);
    assert!(e.contains("has no program `nope`"), "{e}");
    let e = run_err(&["run", o, "--program", "drop_all", "--map", "array:4:4:1"]);
    assert!(e.contains("declares its own maps"), "{e}");
    let s = tmp("r0.s", b"r0 = 1\nexit\n");
    let e = run_err(&["run", s.to_str().unwrap(), "--section", "xdp"]);
    assert!(e.contains("is not one"), "{e}");
    // --type overrides the section's: drop_all as a socket filter means "drop the packet".
    let pkt = tmp("z14.bin", &[0; 14]);
    let out = run_ok(&[
        "run",
        o,
        "--program",
        "drop_all",
        "--type",
        "socket_filter",
        "--packet",
        pkt.to_str().unwrap(),
    ]);
    assert!(
        out.contains("r0 = 0x1 (1) (keep the first 1 bytes of the packet)"),
        "{out}"
    );
}
