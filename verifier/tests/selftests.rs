//! Measured agreement with kernel 6.18 on the kernel's own verifier selftests.
//!
//! Reads every `cases*.jsonl` under `BPFX_VERIFIER_CASES` (a directory) or
//! `../shared/verifier` beside the workspace, verifies each case's llvm-mc-19 bytes with the
//! case's maps, and compares the verdict and the last error line with what kernel 6.18 did.
//! Cases that need BTF (kfuncs, BTF-typed attach targets, BTF ids) are excluded and counted.
//! Set `BPFX_VERIFIER_DIFF=1` to list every disagreement.

use serde_json::Value;
use std::path::PathBuf;
use verifier::RejectKind;

/// The agreement this implementation reached when the test was written; the test fails if
/// a change makes it worse.
const VERDICT_FLOOR: usize = 848;
const MESSAGE_FLOOR: usize = 318;
/// Unprivileged verdicts matching the selftests' `__success_unpriv`/`__failure_unpriv`.
const UNPRIV_FLOOR: usize = 343;

fn cases_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("BPFX_VERIFIER_CASES") {
        return Some(PathBuf::from(d));
    }
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/verifier");
    d.is_dir().then_some(d)
}

#[path = "common/cases.rs"]
mod cases;
use cases::prepare;

#[test]
fn kernel_selftests_agreement() {
    let Some(dir) = cases_dir() else {
        println!(
            "skipped: no verifier cases (set BPFX_VERIFIER_CASES or provide ../shared/verifier)"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cases") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        println!("skipped: no cases*.jsonl in {}", dir.display());
        return;
    }
    let show = std::env::var("BPFX_VERIFIER_DIFF").is_ok();
    let (mut v_ok, mut v_bad, mut m_ok, mut m_bad, mut rejects) = (0, 0, 0, 0, 0);
    let (mut excluded, mut no_verdict, mut unsupported) = (0, 0, 0);
    let (mut u_ok, mut u_bad) = (0, 0);
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read cases");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let c: Value = serde_json::from_str(line).expect("case json");
            let k = &c["kernel_6_18"];
            let Some(verdict) = k["verdict"].as_str() else {
                no_verdict += 1;
                continue;
            };
            let (bytes, opts) = match prepare(&c) {
                Ok(x) => x,
                Err(why) => {
                    excluded += 1;
                    *reasons.entry(why).or_default() += 1;
                    continue;
                }
            };
            let id = c["id"].as_str().unwrap_or("?");
            // Secondary: unprivileged mode against the selftest's own expectation
            // (`__success_unpriv` / `__failure_unpriv`), not a measured kernel verdict.
            if c["modes"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == "unpriv"))
            {
                if let Some(want) = c["unpriv"]["result"].as_str() {
                    let mut o = opts.clone();
                    o.privileged = false;
                    let got = verifier::verify_bytes(&bytes, &o);
                    let got_s = if got.is_ok() { "accept" } else { "reject" };
                    if got_s == want {
                        u_ok += 1;
                    } else {
                        u_bad += 1;
                        if show {
                            println!(
                                "UNPRIV {id}: selftest expects {want} {:?}, bpfx {}",
                                c["unpriv"]["msgs"],
                                got.as_ref()
                                    .err()
                                    .map(|e| e.message.as_str())
                                    .unwrap_or("accept")
                            );
                        }
                    }
                }
            }
            let res = verifier::verify_bytes(&bytes, &opts);
            let ours = if res.is_ok() { "accept" } else { "reject" };
            if let Err(e) = &res {
                if e.kind == RejectKind::Unsupported {
                    unsupported += 1;
                }
            }
            if ours == verdict {
                v_ok += 1;
            } else {
                v_bad += 1;
                if show {
                    println!(
                        "VERDICT {id}: kernel {verdict} {:?}, bpfx {}",
                        k["first_error_line"].as_str().unwrap_or(""),
                        match &res {
                            Ok(_) => "accept".to_string(),
                            Err(e) =>
                                format!("reject {:?} at {} ({:?})", e.message, e.insn, e.kind),
                        }
                    );
                }
            }
            if verdict == "reject" {
                rejects += 1;
                let want = k["first_error_line"].as_str().unwrap_or("");
                let got = res.as_ref().err().map(|e| e.message.as_str()).unwrap_or("");
                if res.is_err() && got == want {
                    m_ok += 1;
                } else {
                    m_bad += 1;
                    if show && res.is_err() {
                        println!("MESSAGE {id}: kernel {want:?}, bpfx {got:?}");
                    }
                }
            }
        }
    }
    let reason_list: Vec<String> = reasons.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!(
        "verdict: {v_ok} agreed, {v_bad} disagreed; first message: {m_ok} agreed, {m_bad} disagreed (of {rejects} rejects); excluded: {excluded} ({}); without a kernel verdict: {no_verdict}; bpfx declined (unsupported, counted as disagreements when the kernel accepted): {unsupported}",
        reason_list.join(", ")
    );
    println!(
        "unprivileged (against the selftests' own expectations): {u_ok} agreed, {u_bad} disagreed"
    );
    assert!(
        v_ok >= VERDICT_FLOOR,
        "verdict agreement regressed: {v_ok} < {VERDICT_FLOOR}"
    );
    assert!(
        u_ok >= UNPRIV_FLOOR,
        "unprivileged agreement regressed: {u_ok} < {UNPRIV_FLOOR}"
    );
    assert!(
        m_ok >= MESSAGE_FLOOR,
        "message agreement regressed: {m_ok} < {MESSAGE_FLOOR}"
    );
}
