//! `bpfx test`: the human report and its summary line, `--filter`, `--format json|junit`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/tests")
}

fn bpfx(args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .args(files)
        .output()
        .unwrap()
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    test_support::files_in_dir(dir, "toml")
}

#[test]
fn every_file_passes_and_ends_with_the_summary_line() {
    let out = bpfx(&["test"], &toml_files(&tests_dir()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let last = stdout.lines().last().unwrap();
    let n = stdout.lines().filter(|l| l.starts_with("ok   ")).count();
    assert!(n >= 43, "{stdout}");
    assert_eq!(last, format!("{n} passed, 0 failed, 0 skipped"));
}

#[test]
fn failing_cases_show_expected_and_actual() {
    let out = bpfx(&["test"], &toml_files(&tests_dir().join("failing")));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = std::fs::read_to_string(tests_dir().join("failing/expected.txt")).unwrap();
    // Paths differ between machines: compare from the file name on.
    let normalized: String = text
        .lines()
        .map(|l| match l.find("failing/") {
            Some(i) => format!("{}{}\n", &l[..5], &l[i..]),
            None => format!("{l}\n"),
        })
        .collect();
    assert_eq!(normalized, expected);
}

#[test]
fn filter_keeps_matching_file_case_names() {
    let files = toml_files(&tests_dir());
    let out = bpfx(&["test", "--filter", "xdp_count.toml::counts TCP"], &files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.starts_with("ok   ") && stdout.contains("xdp_count.toml: counts TCP ("));
    assert!(
        stdout.ends_with("1 passed, 0 failed, 0 skipped\n"),
        "{stdout}"
    );
    // A whole file by its name.
    let out = bpfx(&["test", "--filter", "xdp_count.toml::"], &files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with("5 passed, 0 failed, 0 skipped\n"),
        "{stdout}"
    );
    // Nothing matched: nothing passed, which is a failure.
    let out = bpfx(&["test", "--filter", "no such case"], &files);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0 passed, 0 failed, 0 skipped\n"
    );
}

#[test]
fn json_format() {
    let mut files = vec![tests_dir().join("xdp_count.toml")];
    files.extend(toml_files(&tests_dir().join("failing")));
    let out = bpfx(&["test", "--format", "json"], &files);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(6), Some(8))
    );
    assert_eq!(v["skipped"], 0);
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases[0]["status"], "passed");
    assert_eq!(cases[0]["case"], "counts TCP");
    let bad = cases
        .iter()
        .find(|c| c["case"] == "wrong return value and map")
        .unwrap();
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["errors"][0], "ret: expected XDP_DROP, got 2 (XDP_PASS)");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "6 passed, 8 failed, 0 skipped\n"
    );
}

#[test]
fn junit_format() {
    let mut files = vec![tests_dir().join("xdp_count.toml")];
    files.extend(toml_files(&tests_dir().join("failing")));
    let out = bpfx(&["test", "--format", "junit"], &files);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(
            "<testsuites name=\"bpfx test\" tests=\"14\" skipped=\"0\" failures=\"7\" errors=\"1\""
        ),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"counts TCP\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"ret: expected XDP_DROP, got 2 (XDP_PASS)\""),
        "{xml}"
    );
}
