//! `bpfx cross-check` on program types whose kernel test run takes a context only (raw
//! tracepoints, syscall programs: a false "differ" before), and on output the kernel is read
//! back for (ring buffer records, trace lines, per-CPU values). Exit 77 without privileges:
//! `skipped:`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/tests")
}

/// Runs `bpfx cross-check ARGS`; `None` (after printing `skipped:`) when the kernel is
/// unavailable.
fn cross_check(args: &[&str], ctx: Option<&[u8]>) -> Option<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpfx"));
    cmd.current_dir(tests_dir()).arg("cross-check").args(args);
    let tmp;
    if let Some(bytes) = ctx {
        tmp = std::env::temp_dir().join(format!(
            "bpfx-cross-check-ctx-{}-{}",
            std::process::id(),
            args.join("_").replace(['/', ' ', ':', '='], "_")
        ));
        std::fs::write(&tmp, bytes).unwrap();
        cmd.arg("--ctx").arg(&tmp);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        assert!(stderr.starts_with("kernel unavailable: "), "{stderr}");
        println!("skipped: {}", stderr.trim());
        return None;
    }
    assert!(out.status.success(), "{args:?}:\n{stdout}{stderr}");
    Some(stdout)
}

fn args3(a: u64, b: u64, c: u64) -> Vec<u8> {
    [a, b, c].iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn raw_tracepoint_agrees() {
    let Some(out) = cross_check(
        &[
            "--type",
            "raw_tracepoint",
            "--map",
            "sum=array:4:8:1",
            "raw_tp_args.s",
        ],
        Some(&args3(1, 40, 2)),
    ) else {
        return;
    };
    assert!(out.contains(" r0 ") && out.contains("0x2a"), "{out}");
    assert!(out.trim_end().ends_with("\nagree"), "{out}");
}

#[test]
fn syscall_agrees_on_r0_and_context() {
    let Some(out) = cross_check(
        &["--type", "syscall", "syscall_ctx.s"],
        Some(&args3(0, 41, 0)),
    ) else {
        return;
    };
    assert!(out.contains(" context "), "{out}");
    assert!(out.trim_end().ends_with("\nagree"), "{out}");
}

#[test]
fn ring_buffer_records_and_trace_lines_are_compared() {
    let Some(out) = cross_check(
        &[
            "--type",
            "xdp",
            "--map",
            "events=ringbuf:0:0:4096",
            "--packet",
            "packet16.bin",
            "ringbuf_trace.s",
        ],
        None,
    ) else {
        return;
    };
    let row = |what: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!(" {what}")))
            .map(str::to_string)
    };
    let records = row("ring buffer records").unwrap_or_else(|| panic!("{out}"));
    assert_eq!(records.matches("[0102030405060708]").count(), 2, "{out}");
    // Without tracefs the trace row says why it was not compared, never "agree" on it.
    match row("trace") {
        Some(t) => assert_eq!(t.matches("[\"len 16\"]").count(), 2, "{out}"),
        None => assert!(out.contains("not compared"), "{out}"),
    }
    assert!(out.contains("\nagree"), "{out}");
}

#[test]
fn per_cpu_values_are_compared_cpu_by_cpu() {
    let Some(out) = cross_check(
        &[
            "--type",
            "xdp",
            "--map",
            "percpu_array:4:8:1",
            "--packet",
            "packet16.bin",
            "percpu_cpu.s",
        ],
        None,
    ) else {
        return;
    };
    // CPU 0 counted 1; every other CPU's value is shown too.
    let ncpus = out
        .lines()
        .find(|l| l.starts_with(" map 0"))
        .map(|l| l.matches('|').count() / 2 + 1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(ncpus >= 1, "{out}");
    assert!(out.contains("00000000=0100000000000000"), "{out}");
    assert!(out.trim_end().ends_with("\nagree"), "{out}");
}

/// `bpfx kernel run ARGS`; `None` (after printing `skipped:`) when the kernel is unavailable.
fn kernel_run(args: &[&str]) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .current_dir(tests_dir())
        .args(["kernel", "run"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        println!("skipped: {}", stderr.trim());
        return None;
    }
    assert!(out.status.success(), "{args:?}:\n{stdout}{stderr}");
    Some(stdout)
}

#[test]
fn kernel_run_shows_records_and_trace_lines() {
    let Some(out) = kernel_run(&[
        "--type",
        "xdp",
        "--map",
        "events=ringbuf:0:0:4096",
        "--packet",
        "packet16.bin",
        "--repeat",
        "2",
        "ringbuf_trace.s",
    ]) else {
        return;
    };
    assert!(
        out.contains("records of `events`: 2\n  0102030405060708\n  0102030405060708\n"),
        "{out}"
    );
    // Without tracefs, the reason instead of the lines.
    assert!(
        out.contains("trace: len 16\ntrace: len 16\n") || out.contains("trace: not read back: "),
        "{out}"
    );
}

#[test]
fn kernel_run_raw_tracepoint_with_repeat() {
    // Was `BPF_PROG_TEST_RUN: EINVAL`: a raw tracepoint takes no packet and no `repeat`;
    // its arguments are the context.
    let ctx = std::env::temp_dir().join(format!("bpfx-raw-tp-args-{}", std::process::id()));
    std::fs::write(&ctx, args3(1, 40, 2)).unwrap();
    let ctx = ctx.to_string_lossy().into_owned();
    let Some(out) = kernel_run(&[
        "--type",
        "raw_tracepoint",
        "--map",
        "sum=array:4:8:1",
        "--ctx",
        &ctx,
        "--repeat",
        "3",
        "raw_tp_args.s",
    ]) else {
        return;
    };
    assert!(out.starts_with("r0 = 0x2a (42)"), "{out}");
    assert!(
        out.contains("time: not measured by the kernel for raw_tracepoint programs (3 runs)"),
        "{out}"
    );
    assert!(
        out.contains("map 0 `sum`: 00000000=2a00000000000000"),
        "{out}"
    );
}
