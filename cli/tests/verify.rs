//! `bpfx verify`: exit codes, the rendered rejection with source line and path, JSON, logs.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bpfx(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bpfx runs");
    // Usage errors exit before reading stdin: a closed pipe is fine then.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn testdata(name: &str) -> String {
    format!("{}/../testdata/verifier/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn accepted_program_exits_zero() {
    let out = bpfx(
        &[
            "verify",
            "--map",
            "counts:hash:4:8:256",
            &testdata("count_protocols.s"),
        ],
        b"",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("accepted: "), "{stdout}");
}

#[test]
fn rejection_shows_source_line_path_and_errno() {
    let out = bpfx(
        &[
            "--color",
            "never",
            "verify",
            "--map",
            "m:hash:8:8:1",
            &testdata("null_check_missing.s"),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("R0 invalid mem access 'map_value_or_null'"),
        "{err}"
    );
    assert!(err.contains("r0 = *(u64 *)(r0 + 0)"), "{err}");
    assert!(err.contains("errno 13"), "{err}");
    assert!(err.contains("at instruction 7"), "{err}");
}

#[test]
fn json_and_branch_path() {
    // if r1 == 0 goto +1; r0 = 0; exit: the taken branch exits with r0 unset.
    let prog = "if r1 == 0 goto +1\nr0 = 0\nexit\n";
    let out = bpfx(&["verify", "--json", "-"], prog.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verdict"], "reject");
    assert_eq!(v["rejection"]["message"], "R0 !read_ok");
    assert_eq!(v["rejection"]["insn"], 2);
    assert_eq!(v["rejection"]["path"][0]["insn"], 0);
    assert_eq!(v["rejection"]["path"][0]["taken"], true);
    assert_eq!(v["source_line"], "exit");
}

#[test]
fn raw_bytes_and_log_level() {
    // r0 = 1; exit as raw binary input (not text, not hex).
    let bytes = asm::encode(&[asm::Insn::mov64_imm(0, 1), asm::Insn::exit()]);
    let out = bpfx(&["verify", "--log-level", "2", "-"], &bytes);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0: (b7) r0 = 1"), "{stdout}");
    assert!(stdout.contains("; R0=1 R1=ctx() R10=fp0"), "{stdout}");
    // r0 = 1 alone: raw bytes as above.
    let bad = asm::Insn::mov64_imm(0, 1).encode();
    let out = bpfx(&["verify", "-"], &bad);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("last insn is not an exit or jmp"), "{err}");
    assert!(err.contains("instruction 0: (b7) r0 = 1"), "{err}");
}

#[test]
fn bad_map_spec_is_a_usage_error() {
    let out = bpfx(&["verify", "--map", "m:hash:8", "-"], b"exit\n");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS]"),
        "{err}"
    );
    let out = bpfx(&["verify", "--map", "m:nosuch:8:8:1", "-"], b"exit\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown MapType"));
}

fn elf(name: &str) -> String {
    format!("{}/../testdata/elf/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn objects_are_verified_program_by_program() {
    // One program: no choice needed; its maps come from the object.
    let out = bpfx(&["verify", &elf("xdp_count.bpf.o")], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("accepted:"));
    // Several programs in one section: the choice is required and the error lists them.
    let out = bpfx(
        &["verify", &elf("tail_call.bpf.o"), "--section", "xdp"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("3 programs in section xdp") && err.contains("dispatch (section xdp)"),
        "{err}"
    );
    let out = bpfx(
        &["verify", &elf("tail_call.bpf.o"), "--program", "dispatch"],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // bpf-to-bpf calls into .text are linked before verifying.
    let out = bpfx(
        &["verify", &elf("calls.bpf.o"), "--program", "xdp_calls"],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Code only in `.text`: a program of no known type, verified once --type gives one.
    let out = bpfx(&["verify", &elf("text_only.bpf.o")], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("section `.text`") && err.contains("--type"),
        "{err}"
    );
    let out = bpfx(
        &[
            "verify",
            &elf("text_only.bpf.o"),
            "--section",
            ".text",
            "--type",
            "xdp",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_object_without_a_choice_has_every_program_verified() {
    let out = bpfx(&["verify", &elf("verify_all.bpf.o")], b"");
    assert_eq!(out.status.code(), Some(1), "one program is rejected");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("program"), "{text}");
    let row = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(row("pass")[1..4], ["xdp", "xdp", "accept"]);
    assert_eq!(row("keep_len")[1..4], ["socket", "socket_filter", "accept"]);
    let bad = row("unchecked");
    assert_eq!(bad[1..3], ["xdp", "xdp"]);
    assert_eq!(bad[3], "reject");
    assert!(text.contains("outside of the packet"), "{text}");
    assert!(
        text.contains(
            "3 programs: 2 accepted, 1 rejected, 0 with unresolved externs, 0 without a type"
        ),
        "{text}"
    );

    let out = bpfx(&["verify", "--json", &elf("verify_all.bpf.o")], b"");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rejected"], 1);
    let progs = v["programs"].as_array().unwrap();
    assert_eq!(progs.len(), 3);
    assert_eq!(progs[0]["program"], "pass");
    assert_eq!(progs[0]["verdict"], "accept");
    assert!(progs[0]["processed"].as_u64().unwrap() > 0);
    assert_eq!(progs[1]["program"], "unchecked");
    assert_eq!(progs[1]["verdict"], "reject");
    assert!(progs[1]["message"]
        .as_str()
        .unwrap()
        .contains("outside of the packet"));

    // Externs and undefined functions are per program; sections of no known type wait for
    // --type.
    let out = bpfx(&["verify", "--json", &elf("externs.bpf.o")], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_name = |n: &str| {
        v["programs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["program"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(v["rejected"], 1);
    assert_eq!(by_name("plain")["verdict"], "accept");
    assert_eq!(by_name("kconfig")["verdict"], "unresolved");
    assert_eq!(by_name("undefined")["verdict"], "reject");
    assert!(by_name("undefined")["message"]
        .as_str()
        .unwrap()
        .contains("calls undefined function `not_a_kfunc`"));
    let out = bpfx(&["verify", "--json", &elf("sections.bpf.o")], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sock1 = v["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["program"] == "sock1")
        .cloned()
        .unwrap();
    assert_eq!(sock1["verdict"], "untyped");
    assert!(sock1["message"].as_str().unwrap().contains("--type"));
}

#[test]
fn run_refuses_what_the_kernel_would_refuse() {
    // An unchecked packet read: the verifier rejects it, `bpfx run` says so and stops.
    let src = b"r0 = *(u32 *)(r1 + 0)\nr2 = *(u8 *)(r0 + 0)\nr0 = 2\nexit\n";
    let out = bpfx(&["--color", "never", "run", "-", "--type", "xdp"], src);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the kernel rejects this program") && err.contains("--no-verify"),
        "{err}"
    );
    // With --no-verify it runs, and the VM's own bounds check catches the read of an
    // empty packet.
    let out = bpfx(&["run", "-", "--type", "xdp", "--no-verify"], src);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("out of bounds of packet"), "{err}");
}

#[test]
fn sections_of_no_known_type_run_with_type() {
    let sections = elf("sections.bpf.o");
    let out = bpfx(
        &["run", &sections, "--program", "xprog", "--type", "xdp"],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("XDP_DROP"));
    // Without --type: a usage error naming the section and the option.
    for cmd in [&["run"][..], &["kernel", "run"][..]] {
        let mut args = cmd.to_vec();
        args.extend([sections.as_str(), "--program", "xprog"]);
        let out = bpfx(&args, b"");
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("section `xdp_prog`") && err.contains("--type"),
            "{cmd:?}: {err}"
        );
    }
    // Code only in `.text` runs as the type given.
    let out = bpfx(
        &[
            "run",
            &elf("text_only.bpf.o"),
            "--section",
            ".text",
            "--type",
            "xdp",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A program that calls an undefined function is rejected (exit 1) by name; the
    // object's other programs run.
    let externs = elf("externs.bpf.o");
    let out = bpfx(&["run", &externs, "--program", "undefined"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("program `undefined` calls undefined function `not_a_kfunc`"));
    let out = bpfx(&["run", &externs, "--program", "plain"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Maps the VM lacks (stack_trace, perf_event_array) do not stop a program that does
    // not use them.
    let out = bpfx(
        &["run", &elf("iproute2_maps.bpf.o"), "--program", "ingress"],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("TC_ACT_OK"));
}
