//! The bpf_conformance suite in the kernel, from the official parser's assembled programs
//! (`../shared/conformance/bpf_conformance/golden/tests.jsonl`, or `$BPFX_CONFORMANCE_GOLDEN`).

mod common;

use asm::Insn;
use kernel::conformance::{run_case, Outcome};
use std::path::PathBuf;

fn golden() -> Option<PathBuf> {
    test_support::corpus_file(
        "BPFX_CONFORMANCE_GOLDEN",
        "conformance/bpf_conformance/golden/tests.jsonl",
    )
}

use test_support::hex;

#[test]
fn kernel_runs_the_conformance_suite() {
    if !common::kernel_available("kernel_runs_the_conformance_suite") {
        return;
    }
    let Some(path) = golden() else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut pass, mut expected_rejections, mut failures) = (0, Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = case["file"].as_str().unwrap();
        let bytes = hex(case["prog"].as_str().unwrap());
        let prog: Vec<Insn> = match asm::decode(&bytes) {
            Ok(d) => d.into_iter().map(|d| d.insn).collect(),
            Err(e) => {
                failures.push(format!("{file}: undecodable: {e}"));
                continue;
            }
        };
        let mem = hex(case["mem"].as_str().unwrap());
        let result = case["result"].as_str().unwrap();
        let expected = u64::from_str_radix(result.trim_start_matches("0x"), 16).unwrap();
        match run_case(&prog, &mem, expected) {
            Outcome::Pass => pass += 1,
            Outcome::ExpectedRejection { message, .. } => {
                expected_rejections.push(format!("{file}: {message}"))
            }
            Outcome::Mismatch { expected, got } => {
                failures.push(format!("{file}: expected {expected:#x}, got {got:#x}"))
            }
            Outcome::Error(e) => failures.push(format!("{file}: {e}")),
        }
    }
    println!(
        "kernel conformance: {pass} pass, {} expected rejections",
        expected_rejections.len()
    );
    for r in &expected_rejections {
        println!("  expected rejection: {r}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Kernel 6.18: 300 pass; 12 constant shifts out of range and callx are refused.
    assert_eq!(pass, 300);
    assert_eq!(expected_rejections.len(), 13, "{expected_rejections:#?}");
    assert_eq!(
        expected_rejections
            .iter()
            .filter(|r| r.contains("invalid shift"))
            .count(),
        12
    );
    assert!(expected_rejections
        .iter()
        .any(|r| r.starts_with("tests/callx.data: unknown opcode 8d")));
}
