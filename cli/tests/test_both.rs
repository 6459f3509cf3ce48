//! `bpfx test --both` on every test file in `testdata/elf/tests/` whose program type the
//! kernel can test-run: each case must pass in the VM and in the kernel (or say why the
//! kernel skipped it), and the two must agree. Prints the VM/kernel results per file.
//! Without privileges `bpfx test --both` exits 77 and this test prints `skipped:`.

use asm::types::ProgType;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/tests")
}

/// The program type a test file runs: its `type` for assembly, the chosen program's
/// section type for an object.
fn file_type(path: &Path) -> ProgType {
    let text = std::fs::read_to_string(path).unwrap();
    let v: toml::Table = toml::from_str(&text).unwrap();
    if let Some(t) = v.get("type").and_then(|t| t.as_str()) {
        return t.parse().unwrap();
    }
    let obj = v["object"].as_str().unwrap();
    let bytes = std::fs::read(path.parent().unwrap().join(obj)).unwrap();
    let o = obj::Object::parse(&bytes).unwrap();
    let p = match v.get("program").and_then(|p| p.as_str()) {
        Some(name) => o.program(name).unwrap(),
        None => match o.programs.first() {
            Some(p) => p,
            // An object without programs: its cases expect the VM's error.
            None => return ProgType::Syscall,
        },
    };
    // A program of no known type (`.text` only): its cases expect the error too.
    p.prog_type.unwrap_or(ProgType::Syscall)
}

#[test]
fn every_test_runnable_file_agrees_in_both() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(tests_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let (runnable, other): (Vec<_>, Vec<_>) =
        files.iter().partition(|f| file_type(f).can_test_run());
    assert!(runnable.len() >= 10, "{runnable:?}");
    for f in &other {
        println!(
            "not test-runnable in the kernel ({}): {}",
            file_type(f),
            f.display()
        );
    }
    let (mut ran, mut skipped) = (0, 0);
    for f in &runnable {
        let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
            .args(["test", "--both"])
            .arg(f)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(77) {
            assert!(stderr.starts_with("kernel unavailable: "), "{stderr}");
            println!("skipped: {}", stderr.trim());
            return;
        }
        assert!(out.status.success(), "{}:\n{stdout}{stderr}", f.display());
        // A case the kernel skipped is reported `skip`, with the VM's result.
        let cases = stdout
            .lines()
            .filter(|l| l.starts_with("ok   ") || l.starts_with("skip "))
            .count();
        let in_kernel = stdout.lines().filter(|l| l.contains("; kernel: ")).count();
        let kernel_skipped = stdout
            .lines()
            .filter(|l| l.contains("; kernel skipped: "))
            .count();
        assert_eq!(cases, in_kernel + kernel_skipped, "{stdout}");
        println!(
            "{}: vm {cases}/{cases} passed, kernel {in_kernel} agreed, {kernel_skipped} skipped",
            f.file_name().unwrap().to_string_lossy()
        );
        for l in stdout.lines().filter(|l| l.contains("; kernel skipped: ")) {
            let why = l.split("; kernel skipped: ").nth(1).unwrap();
            println!("    {}", why.strip_suffix(')').unwrap_or(why));
        }
        ran += in_kernel;
        skipped += kernel_skipped;
    }
    println!("kernel: {ran} cases agreed with the VM, {skipped} skipped");
    assert!(ran >= 12, "only {ran} cases ran in the kernel");
}

#[test]
fn kernel_mode_reports_failures_and_skips() {
    // A case whose expectation is wrong fails in the kernel too, and a type the kernel
    // cannot test-run is skipped with the reason.
    let dir = std::env::temp_dir().join(format!("bpfx-test-both-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf");
    let wrong = dir.join("wrong.toml");
    std::fs::write(
        &wrong,
        format!(
            "object = {:?}\nprogram = \"count_proto\"\n[[case]]\nname = \"wrong\"\npacket = \"ffffffffffff 020000000001 86dd 6000000000000000\"\nexpect.ret = \"XDP_DROP\"\n",
            obj.join("xdp_count.bpf.o")
        ),
    )
    .unwrap();
    let hello = dir.join("hello.toml");
    std::fs::write(
        &hello,
        format!(
            "object = {:?}\n[[case]]\nname = \"runs\"\nexpect.ret = 0\n",
            obj.join("hello.bpf.o")
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(["test", "--kernel"])
        .arg(&wrong)
        .arg(&hello)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(77) {
        println!("skipped: {}", String::from_utf8_lossy(&out.stderr).trim());
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("ret: expected XDP_DROP, got 2 (XDP_PASS)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(skipped: tracepoint programs cannot be test-run in the kernel)"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 passed, 1 failed, 1 skipped\n"),
        "{stdout}"
    );
}

#[test]
fn both_counts_kernel_skipped_cases_as_skipped() {
    // xdp_count.toml's runt frame is too short for the kernel's test run: with --both it is
    // skipped (with the VM's result shown), not passed.
    let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(["test", "--both"])
        .arg(tests_dir().join("xdp_count.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(77) {
        println!("skipped: {}", String::from_utf8_lossy(&out.stderr).trim());
        return;
    }
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("skip ") && stdout.contains("drops a runt frame without counting it (skipped: vm: 1 (XDP_DROP), 11 insns; kernel skipped: "),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("4 passed, 0 failed, 1 skipped\n"),
        "{stdout}"
    );
}

#[test]
fn both_compares_objects_loaded_with_btf_and_frozen_rodata() {
    // Callbacks (bpf_loop, for_each_map_elem) load only with the object's BTF func_info,
    // and strncmp/snprintf only with `.rodata` frozen: the kernel engine loads objects as
    // libbpf does, so these cases are compared in the kernel, not skipped.
    let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(["test", "--both"])
        .arg(tests_dir().join("callbacks.toml"))
        .arg(tests_dir().join("vm_helpers.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(77) {
        println!("skipped: {}", String::from_utf8_lossy(&out.stderr).trim());
        return;
    }
    assert!(out.status.success(), "{stdout}");
    for name in [
        "bpf_loop calls back four times",
        "for_each_map_elem visits every array element in order",
        "the callback returning 1 stops the walk",
        "strncmp and snprintf",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(": {name} (")))
            .unwrap_or_else(|| panic!("no line for `{name}`: {stdout}"));
        assert!(
            line.starts_with("ok ") && line.contains("; kernel: "),
            "{line}"
        );
    }
    assert!(!stdout.contains("func_info"), "{stdout}");
    assert!(!stdout.contains("frozen"), "{stdout}");
}
