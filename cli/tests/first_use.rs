//! What a new user meets first (issue 10, part 8): `--repeat` counts, readable classic BPF
//! results, no raw bytes on a terminal, `--help` everywhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bpfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .output()
        .expect("bpfx runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfx-first-use-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn repeat_runs_the_program_exactly_n_times() {
    // Adds 1 to the u64 at index 0 of an array map on every run.
    let src = "stw [%r10-4], 0\nlddw map_fd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n\
               jeq %r0, 0, out\nldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\nout:\nmov %r0, 0\nexit\n";
    let p = tmp("count.asm", src.as_bytes());
    for (n, value) in [("1", "0100000000000000"), ("5", "0500000000000000")] {
        let out = bpfx(&["run", "--map", "array:4:8:1", "--repeat", n, s(&p)]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        let want = format!("map 0 (array): 1 entries\n  00000000 => {value}\n");
        assert!(
            stdout(&out).contains(&want),
            "--repeat {n}:\n{}",
            stdout(&out)
        );
    }
}

#[test]
fn cbpf_run_says_what_happens_to_the_packet() {
    let pkt = tmp("p64", &[0; 64]);
    for (name, src, want) in [
        ("keep3.txt", "ret #3\n", "accept 3 of 64 bytes (r = 0x3)\n"),
        ("all.txt", "ret #-1\n", "accept 64 bytes (r = 0xffffffff)\n"),
        ("drop.txt", "ret #0\n", "drop (r = 0x0)\n"),
        (
            "allow.txt",
            "A = sys_number\nreturn ALLOW\n",
            "ALLOW (r = 0x7fff0000, a seccomp action: see `bpfx seccomp run`; \
             as a socket filter: accept 64 bytes)\n",
        ),
    ] {
        let f = tmp(name, src.as_bytes());
        let out = bpfx(&["cbpf", "run", s(&f), "--packet", s(&pkt)]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(stdout(&out), want, "{name}");
    }
    let f = tmp("keep3.txt", b"ret #3\n");
    let out = bpfx(&["cbpf", "run", "--json", s(&f), "--packet", s(&pkt)]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ret"], 3);
    assert_eq!(v["delivery"]["verdict"], "accept");
    assert_eq!(v["delivery"]["bytes"], 3);
}

/// `bpfx cbpf cross-check`, or `None` when this machine has no AF_UNIX socket pair.
fn cross_check(args: &[&str]) -> Option<Output> {
    let mut argv = vec!["cbpf", "cross-check"];
    argv.extend_from_slice(args);
    let out = bpfx(&argv);
    if out.status.code() == Some(2) && stderr(&out).contains("probing the kernel") {
        println!(
            "skipped: no socket pair to attach a filter to: {}",
            stderr(&out)
        );
        return None;
    }
    Some(out)
}

#[test]
fn cbpf_cross_check_prints_a_table() {
    let pkt = tmp("p5", b"hello");
    let f = tmp("cc-keep3.txt", b"ret #3\n");
    let Some(out) = cross_check(&[s(&f), "--packet", s(&pkt)]) else {
        return;
    };
    assert_eq!(
        stdout(&out),
        "emulator  accept 3 of 5 bytes (r = 0x3)\nkernel    accept 3 of 5 bytes\nagree\n"
    );
    assert!(out.status.success());
    // Refused by both: the checker's reason and the kernel's errno, by name.
    let f = tmp("cc-noret.c", b"{ 0x00, 0, 0, 0x00000000 },\n");
    let out = cross_check(&[s(&f), "--packet", s(&pkt)]).unwrap();
    assert_eq!(
        stdout(&out),
        "emulator  refused by the checker: instruction 0: the last instruction must be \
         `ret #k` or `ret a`\nkernel    refused: Invalid argument (errno 22)\nagree\n"
    );
    let out = cross_check(&["--json", s(&f), "--packet", s(&pkt)]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["agree"], true);
    assert_eq!(v["kernel"]["verdict"], "refused");
}

/// Runs `bpfx ARGS` with its stdout on a pseudo-terminal (util-linux `script`); `None`
/// when `script` is not there or cannot open one.
fn on_terminal(args: &[&str]) -> Option<(Option<i32>, String)> {
    let mut cmd = String::from(env!("CARGO_BIN_EXE_bpfx"));
    for a in args {
        cmd.push_str(&format!(" '{a}'"));
    }
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if !stderr(&o).contains("script:") => Some((o.status.code(), stdout(&o))),
        Ok(o) => {
            println!(
                "skipped: script cannot open a pseudo-terminal: {}",
                stderr(&o)
            );
            None
        }
        Err(e) => {
            println!("skipped: no util-linux `script` to give bpfx a terminal: {e}");
            None
        }
    }
}

#[test]
fn classic_asm_writes_no_raw_bytes_to_a_terminal() {
    let bpf = tmp("t-keep3.txt", b"ret #3\n");
    let sc = tmp("t-allow.seccomp", b"A = sys_number\nreturn ALLOW\n");
    for argv in [
        &["cbpf", "asm", s(&bpf)][..],
        &["seccomp", "asm", s(&sc)][..],
        &["asm", "--dialect", "bpf_asm", s(&bpf)][..],
    ] {
        let Some((code, text)) = on_terminal(argv) else {
            return;
        };
        assert_eq!(code, Some(0), "{argv:?}: {text}");
        // The C array instead of the bytes.
        assert!(text.contains("{ 0x06, 0, 0, 0x"), "{argv:?}: {text:?}");
        assert!(!text.contains('\0'), "{argv:?}: {text:?}");
        let mut raw = argv.to_vec();
        raw.extend(["--format", "raw"]);
        let (code, text) = on_terminal(&raw).unwrap();
        assert_eq!(code, Some(2), "{raw:?}: {text}");
        assert!(
            text.contains("refusing to write raw bytecode to a terminal"),
            "{raw:?}: {text}"
        );
    }
    // Into a pipe: the bytes, as before.
    let out = bpfx(&["cbpf", "asm", s(&bpf)]);
    assert_eq!(out.stdout, [6, 0, 0, 0, 3, 0, 0, 0]);
    let out = bpfx(&["seccomp", "asm", s(&sc)]);
    assert_eq!(out.stdout.len(), 16);
}

#[test]
fn conformance_plugin_has_help() {
    let plugin = || Command::new(env!("CARGO_BIN_EXE_bpfx-conformance"));
    for flag in ["--help", "-h"] {
        // stdin closed: a plugin that read the program instead would fail on empty input.
        let out = plugin()
            .arg(flag)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("Usage: bpfx-conformance [MEMORY-HEX] [PLUGIN-OPTIONS...] < PROGRAM-HEX"),
            "{text}"
        );
        assert!(text.contains("--plugin_path"), "{text}");
    }
    let out = plugin().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("bpfx-conformance "));
    let out = plugin()
        .arg("--nonsense")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown option `--nonsense`"));
}

fn long_help(cmd: &str) -> String {
    let out = bpfx(&[cmd, "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

#[test]
fn verify_help_describes_objects_and_maps() {
    let help = long_help("verify");
    for want in [
        "clang-built ELF object",
        "--section xdp prog.bpf.o",
        "--program count_proto prog.bpf.o",
        "[NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS]",
        "--map counts=array:4:8:1",
    ] {
        assert!(help.contains(want), "no `{want}` in:\n{help}");
    }
    // The examples do what they say: an object by section, and the --map spelling shown.
    let obj = testdata("elf/xdp_count.bpf.o");
    let out = bpfx(&["verify", "--section", "xdp", s(&obj)]);
    assert!(stdout(&out).starts_with("accepted"), "{}", stderr(&out));
    let p = tmp(
        "lookup.s",
        b"*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nr1 = map_fd(0) ll\ncall 1\nr0 = 2\nexit\n",
    );
    let out = bpfx(&[
        "verify",
        "--type",
        "xdp",
        "--map",
        "counts=array:4:8:1",
        s(&p),
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // The old NAME:TYPE:... spelling still works, with a note saying how to write it now.
    let out = bpfx(&[
        "verify",
        "--type",
        "xdp",
        "--map",
        "counts:array:4:8:1",
        s(&p),
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("--map counts=array:4:8:1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_help_describes_files_kernel_and_both() {
    let help = long_help("test");
    for want in [
        "--kernel",
        "--both",
        "clang-built ELF object",
        "[[map]]",
        "bpfx test --kernel ",
        "bpfx test --both ",
        "docs/unit-testing.md",
    ] {
        assert!(help.contains(want), "no `{want}` in:\n{help}");
    }
    // The minimal file of the help passes.
    let file: String = help
        .split("A minimal file:\n")
        .nth(1)
        .unwrap()
        .lines()
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let obj = testdata("elf/xdp_count.bpf.o");
    let file = file.replace("\"xdp_count.bpf.o\"", &format!("{:?}", s(&obj)));
    let t = tmp("minimal.toml", file.as_bytes());
    let out = bpfx(&["test", s(&t)]);
    assert!(
        out.status.success(),
        "{file}\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("1 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
}
