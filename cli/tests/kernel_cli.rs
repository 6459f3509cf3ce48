//! `bpfx kernel ...` end to end. Prints `skipped:` and passes where bpf() is unusable, after
//! checking that the CLI says so with exit status 77.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bpfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .output()
        .unwrap()
}

/// A fresh file per call: the tests run in parallel.
fn tmp(name: &str, contents: &[u8]) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bpfx-kernel-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{n}-{name}"));
    std::fs::write(&p, contents).unwrap();
    p
}

/// Whether the kernel is usable; when it is not, checks that `kernel run` exits 77 with the
/// reason on stderr, and prints `skipped:`.
fn usable() -> bool {
    let p = tmp("r0.hex", b"b7000000030000009500000000000000\n");
    let out = bpfx(&["kernel", "run", p.to_str().unwrap()]);
    if out.status.code() == Some(77) {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("kernel unavailable: "), "{err}");
        println!("skipped: kernel unavailable ({})", err.trim());
        return false;
    }
    assert!(out.status.success(), "{out:?}");
    true
}

#[test]
fn run_prints_r0_and_json() {
    if !usable() {
        return;
    }
    // r0 = *(u32 *)(r1 + 0) + r2: the memory reaches r1/r2
    let p = tmp(
        "mem.hex",
        b"61100000000000000f200000000000009500000000000000",
    );
    let out = bpfx(&[
        "kernel",
        "run",
        "--mem-hex",
        "05 00 00 00",
        p.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("r0 = 0x9 (9)\n"), "{text}");
    assert!(
        text.contains("instructions executed: not counted by the kernel"),
        "{text}"
    );
    let pkt = tmp("pkt.bin", &[0u8; 20]);
    let p = tmp("xdp.hex", b"b7000000020000009500000000000000");
    let out = bpfx(&[
        "kernel",
        "run",
        "--json",
        "--type",
        "xdp",
        "--packet",
        pkt.to_str().unwrap(),
        "--repeat",
        "10",
        p.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["r0"], "0x2");
    assert_eq!(v["type"], "xdp");
    assert_eq!(v["r0_bits"], 64);
    assert_eq!(v["meaning"], "XDP_PASS");
    assert!(v["insns"].is_null());
    assert!(v["ns_per_run"].is_u64());
}

#[test]
fn rejection_shows_the_log_and_where_the_program_starts() {
    if !usable() {
        return;
    }
    let p = tmp("bad.hex", b"9500000000000000");
    let out = bpfx(&["kernel", "run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: the verifier rejected the program (EACCES"),
        "{err}"
    );
    assert!(err.contains("R0 !read_ok"), "{err}");
    assert!(
        err.contains(
            "note: instructions 0 to 9 of the log are bpfx's wrapper; the program starts at 10"
        ),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_usage_errors() {
    let p = tmp("ok.hex", b"b7000000030000009500000000000000");
    let out = bpfx(&["kernel", "run", "--mem-hex", "0g", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--mem-hex: line 1: `0g` is not hex"), "{err}");
    let out = bpfx(&[
        "kernel",
        "run",
        "--type",
        "nope",
        "--packet",
        "/dev/null",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown ProgType `nope`"), "{err}");
    let out = bpfx(&[
        "kernel",
        "run",
        "--type",
        "xdp",
        "--packet",
        "/dev/zero",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero is larger than 1048576 bytes"),
        "{err}"
    );
}

#[test]
fn conformance_from_golden_jsonl() {
    if !usable() {
        return;
    }
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/bpf_conformance/golden/tests.jsonl");
    if !golden.exists() {
        println!("skipped: {} not found", golden.display());
        return;
    }
    let out = bpfx(&["kernel", "conformance", golden.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.ends_with("kernel: 300 pass, 13 expected rejections, 0 fail (of 313)\n"),
        "{text}"
    );
    assert!(
        text.contains("expected rejection tests/callx.data: unknown opcode 8d"),
        "{text}"
    );
}

#[test]
fn probe_reports() {
    let out = bpfx(&["kernel", "probe", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["release"].is_string());
    if v["bpf_usable"] == true {
        assert_eq!(out.status.code(), Some(0));
        let xdp = v["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "xdp")
            .unwrap();
        assert_eq!(xdp["test_run"], true);
    } else {
        assert_eq!(out.status.code(), Some(77));
        let reason = v["reason"].as_str().unwrap();
        assert!(!reason.is_empty());
        println!("skipped: kernel unavailable ({reason})");
    }
}

#[test]
fn cross_check_agrees_and_reports_maps() {
    if !usable() {
        return;
    }
    // r1 = &map0[0] (lddw src=2: byte 1 is 0x21); *(u64 *)(r1 + 0) = 42; r0 = 42; exit
    let map_prog = tmp(
        "mapv.hex",
        b"1821000000000000 0000000000000000 7a0100002a000000 b70000002a000000 9500000000000000",
    );
    let out = bpfx(&[
        "cross-check",
        "--json",
        "--map",
        "array:4:8:1",
        map_prog.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agree"], true, "{v}");
    assert_eq!(out.status.code(), Some(0));
    let rows = v["rows"].as_array().unwrap();
    let map = rows.iter().find(|r| r["what"] == "map 0").unwrap();
    assert_eq!(map["kernel"], "00000000=2a00000000000000");
    assert_eq!(map["vm"], map["kernel"]);
    // memory mode with memory
    let m = tmp(
        "memw.hex",
        b"7201000007000000 b70000002a000000 9500000000000000",
    );
    let out = bpfx(&[
        "cross-check",
        "--mem-hex",
        "00 01 02 03",
        m.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(" memory   07010203  07010203"), "{text}");
    assert!(text.ends_with("agree\n"), "{text}");
}

#[test]
fn cross_check_reports_a_verdict_difference() {
    if !usable() {
        return;
    }
    // r0 = 1; r0 <<= 64: the verifier refuses the constant shift, the VM masks it.
    let p = tmp(
        "shift.hex",
        b"b700000001000000 6700000040000000 9500000000000000",
    );
    let out = bpfx(&["cross-check", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("≠verdict  the verifier rejected the program (EINVAL (Invalid argument)): invalid shift 64"), "{text}");
    assert!(text.ends_with("differ: verdict\n"), "{text}");
}

#[test]
fn cross_check_map_index_must_exist() {
    let p = tmp(
        "mapidx.hex",
        b"1821000000000000 0000000000000000 b700000000000000 9500000000000000",
    );
    let out = bpfx(&["cross-check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("instruction 0: `lddw` refers to map 0 but 0 map(s) were given with --map"),
        "{err}"
    );
    let out = bpfx(&["cross-check", "--map", "array:4:8", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not [NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES"),
        "{err}"
    );
}

#[test]
fn conformance_dir_in_the_kernel() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/bpf_conformance/tests");
    if !dir.exists() {
        println!("skipped: {} not found", dir.display());
        return;
    }
    let out = bpfx(&["conformance", "--kernel", dir.to_str().unwrap()]);
    if out.status.code() == Some(77) {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("kernel unavailable: "), "{err}");
        println!("skipped: {}", err.trim());
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.ends_with("kernel: 300 passed, 0 failed, 13 expected rejections\n"),
        "{text}"
    );
    assert_eq!(text.matches("expected rejection ").count(), 13, "{text}");
    assert!(text.contains("callx.data: unknown opcode 8d"), "{text}");
}

#[test]
fn cross_check_socket_filter_sees_the_packet_from_byte_0() {
    if !usable() {
        return;
    }
    let mut pkt = vec![0x11u8; 60];
    pkt[0] = 0x42;
    pkt[12] = 0x08;
    pkt[13] = 0x06;
    let pkt = tmp("pkt60", &pkt);
    // r0 = skb->len; r6 = r1; r0 = ld_abs b[0]; r0 = skb->protocol: each agrees, and the
    // whole packet is compared.
    for (name, prog, want) in [
        ("len.txt", "r0 = *(u32 *)(r1 + 0)\nexit\n", "0x3c"),
        ("ldabs.txt", "r6 = r1\nr0 = *(u8 *)skb[0]\nexit\n", "0x42"),
        ("proto.txt", "r0 = *(u32 *)(r1 + 16)\nexit\n", "0x608"),
    ] {
        let p = tmp(name, prog.as_bytes());
        let out = bpfx(&[
            "cross-check",
            "--type",
            "socket_filter",
            "--packet",
            pkt.to_str().unwrap(),
            p.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {text}");
        assert!(text.contains(&format!(" {want}")), "{name}: {text}");
        assert!(text.contains(" packet "), "{name}: {text}");
        assert!(text.ends_with("agree\n"), "{name}: {text}");
    }
}

#[test]
fn programs_as_llvm_or_ubpf_text() {
    if !usable() {
        return;
    }
    let llvm = tmp("p.txt", b"r0 = 6\nr0 *= 7\nexit\n");
    let ubpf = tmp("p2.txt", b"mov %r0, 6\nmul %r0, 7\nexit\n");
    for p in [llvm, ubpf] {
        let out = bpfx(&["kernel", "run", p.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("r0 = 0x2a (42)\n"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn cross_check_verify_compares_verdicts_and_messages() {
    if !usable() {
        return;
    }
    // Rejected by both with the same first message.
    let p = tmp("uninit.s", b"r0 = r2\nexit\n");
    let out = bpfx(&["cross-check", "--verify", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("kernel: reject (errno 13): R2 !read_ok"),
        "{text}"
    );
    assert!(
        text.contains("bpfx:   reject (errno 13): R2 !read_ok"),
        "{text}"
    );
    // An unchecked packet read in XDP, as JSON.
    let p = tmp(
        "pkt.s",
        b"r0 = *(u32 *)(r1 + 0)\nr0 = *(u8 *)(r0 + 0)\nexit\n",
    );
    let out = bpfx(&[
        "cross-check",
        "--verify",
        "--json",
        "--type",
        "xdp",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agree"], true, "{v}");
    assert!(v["kernel"].as_str().unwrap().starts_with("reject"), "{v}");
    // Accepted by both.
    let p = tmp("ok.s", b"r0 = 0\nexit\n");
    let out = bpfx(&[
        "cross-check",
        "--verify",
        "--type",
        "xdp",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn cross_check_of_a_type_without_test_run_is_unavailable() {
    if !usable() {
        return;
    }
    let p = tmp("tp.s", b"r0 = 0\nexit\n");
    let out = bpfx(&["cross-check", "--type", "tracepoint", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(77));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot be test-run") && err.contains("--verify"),
        "{err}"
    );
}

fn elf(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/elf")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// Ethernet + IPv4 with protocol 6 (TCP).
fn tcp_frame() -> PathBuf {
    let mut pkt = vec![0u8; 34];
    pkt[12] = 0x08;
    pkt[23] = 6;
    tmp("tcp34", &pkt)
}

#[test]
fn kernel_run_object_with_its_maps() {
    // Choosing the program needs no kernel.
    let e = bpfx(&["kernel", "run", &elf("tail_call.bpf.o")]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("--program drop_all"));
    if !usable() {
        return;
    }
    let pkt = tcp_frame();
    for choose in [["--section", "xdp"], ["--program", "count_proto"]] {
        let out = bpfx(&[
            "kernel",
            "run",
            &elf("xdp_count.bpf.o"),
            choose[0],
            choose[1],
            "--packet",
            pkt.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}{out:?}");
        assert!(text.contains("r0 = 0x2 (2) (XDP_PASS)"), "{text}");
        assert!(
            text.contains("map 0 `counts`: 06000000=0100000000000000"),
            "{text}"
        );
    }
    // Program arrays filled by the loader are refused with the reason.
    let out = bpfx(&[
        "kernel",
        "run",
        &elf("prog_array_init.bpf.o"),
        "--program",
        "entry",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not load"),
        "{out:?}"
    );
}

#[test]
fn cross_check_objects_agree() {
    if !usable() {
        return;
    }
    let pkt = tcp_frame();
    let pkt = pkt.to_str().unwrap();
    // xdp with a hash map; global data (.rodata/.data/.bss initialised); several map
    // types; bpf-to-bpf calls in a socket filter; a ring buffer.
    for (obj, extra, want) in [
        (
            "xdp_count.bpf.o",
            None,
            "map 0 `counts` 06000000=0100000000000000",
        ),
        ("globals.bpf.o", None, "map 1 `.data`"),
        ("multi_maps.bpf.o", None, "map 2 `lengths`"),
        ("calls.bpf.o", Some("socket"), " r0 "),
        ("ringbuf.bpf.o", None, "map 0 `events`"),
    ] {
        let mut args = vec!["cross-check", "--packet", pkt];
        let o = elf(obj);
        args.push(&o);
        if let Some(sec) = extra {
            args.extend(["--section", sec]);
        }
        let out = bpfx(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{obj}: {text}{out:?}");
        assert!(text.contains(want), "{obj}: {text}");
        // Without tracefs the trace lines are not compared, and the verdict says so.
        let tracefs = std::path::Path::new("/sys/kernel/tracing/trace_pipe").exists();
        assert!(
            text.ends_with("agree\n")
                || (!tracefs
                    && text.ends_with("agree on what was compared; not compared: trace\n")),
            "{obj}: {text}"
        );
    }
}

#[test]
fn cross_check_object_with_a_bpf_loop_callback() {
    // The callback's address (BPF_PSEUDO_FUNC) loads only with the object's BTF func_info,
    // which cross-check passes as libbpf does: VM and kernel agree on the result.
    if !usable() {
        return;
    }
    let pkt = tmp(
        "eth-ipv6",
        b"\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x86\xdd",
    );
    let o = elf("callbacks.bpf.o");
    let out = bpfx(&[
        "cross-check",
        &o,
        "--program",
        "use_callbacks",
        "--packet",
        pkt.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{out:?}");
    assert!(text.contains(" verdict  accepts"), "{text}");
    assert!(text.contains(" r0       0x2 "), "{text}");
    assert!(text.ends_with("agree\n"), "{text}");
    // `kernel run` loads it the same way.
    let out = bpfx(&[
        "kernel",
        "run",
        &o,
        "--program",
        "use_callbacks",
        "--packet",
        pkt.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{out:?}");
    assert!(
        text.starts_with(
            "r0 = 0x2 (2) (XDP_PASS) [low 32 bits: an object's program runs without the wrapper]"
        ),
        "{text}"
    );
}

#[test]
fn kernel_run_iproute2_objects_and_sections_of_no_known_type() {
    if !usable() {
        return;
    }
    let pkt = tmp("zero64", &[0u8; 64]);
    let pkt = pkt.to_str().unwrap();
    // bpf_elf_map maps: a perf event array created with one entry per CPU (not read back)
    // and a pinned array (pinning reported, not applied).
    let out = bpfx(&[
        "kernel",
        "run",
        &elf("iproute2_maps.bpf.o"),
        "--program",
        "ingress",
        "--packet",
        pkt,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{out:?}");
    assert!(text.contains("(TC_ACT_OK)"), "{text}");
    assert!(
        text.contains("map 1 `counters`: 00000000=0000000000000000 01000000=0c00000000000000"),
        "{text}"
    );
    // A section libbpf does not know runs as the --type given.
    let out = bpfx(&[
        "kernel",
        "run",
        &elf("sections.bpf.o"),
        "--program",
        "xprog",
        "--type",
        "xdp",
        "--packet",
        pkt,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{out:?}");
    assert!(text.contains("(XDP_DROP)"), "{text}");
}
