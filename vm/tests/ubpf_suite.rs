//! uBPF's own `.data` tests, with uBPF's test helpers registered for ids 0–5. Tests using
//! uBPF-only sections (ELF, reload) are skipped; two differ on purpose, because Linux
//! differs from uBPF there.

use asm::text::{assemble, data_file, Dialect};
use std::path::{Path, PathBuf};

/// Where Linux (and so the VM) answers differently from uBPF.
const KERNEL_DIFFERS: &[(&str, &str)] = &[
    (
        "err-too-many-instructions.data",
        "Linux accepts up to 1,000,000 instructions; uBPF stops at 65,536",
    ),
    (
        "err-unknown-opcode.data",
        "0x06 is `gotol` (BPF_JMP32 | BPF_JA) in Linux; uBPF does not know it",
    ),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            files(&e, out);
        } else if e.extension().is_some_and(|x| x == "data") {
            out.push(e);
        }
    }
}

fn hexdump(text: &str) -> Vec<u8> {
    text.lines()
        .flat_map(|l| {
            l.split_once(':')
                .map_or(l, |(_, rest)| rest)
                .split_whitespace()
        })
        .flat_map(|w| {
            (0..w.len() / 2).map(move |i| u8::from_str_radix(&w[2 * i..2 * i + 2], 16).unwrap())
        })
        .collect()
}

#[test]
fn ubpf_suite() {
    let Some(dir) = test_support::corpus_dir("BPFX_UBPF_TESTS_DIR", "conformance/ubpf/tests")
    else {
        return;
    };
    let mut all = Vec::new();
    files(&dir, &mut all);
    let (mut passed, mut skipped, mut differ, mut failures) = (0, 0, 0, Vec::new());
    for path in &all {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut f = data_file::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut expect_error = f.error.is_some();
        let mut skip = false;
        for s in &f.other_sections {
            match s.as_str() {
                "c" | "no register offset" | "description" | "no jit" => {}
                "error pattern" => expect_error = true,
                s if s.starts_with("asm @") => {
                    f.asm = Some(
                        std::fs::read_to_string(path.parent().unwrap().join(s[5..].trim()))
                            .unwrap(),
                    )
                }
                s if s.starts_with("mem @") => {
                    f.mem = hexdump(
                        &std::fs::read_to_string(path.parent().unwrap().join(s[5..].trim()))
                            .unwrap(),
                    )
                }
                _ => skip = true,
            }
        }
        if skip || (f.result.is_none() && !expect_error) {
            skipped += 1;
            continue;
        }
        let prog = match (&f.raw, &f.asm) {
            (Some(r), _) => r.clone(),
            (None, Some(src)) => match assemble(src, Dialect::Ubpf) {
                Ok(a) => a.bytes(),
                Err(_) if expect_error => {
                    passed += 1;
                    continue;
                }
                Err(d) => panic!("{name}: {d:?}"),
            },
            (None, None) => {
                skipped += 1;
                continue;
            }
        };
        let mut m = vm::Vm::new();
        vm::register_ubpf_test_helpers(&mut m);
        m.set_mem(f.mem.clone());
        let got = m
            .load(&prog, None)
            .map_err(|e| e.to_string())
            .and_then(|id| m.run(id).map(|o| o.r0).map_err(|e| e.to_string()));
        let ok = match (&got, expect_error) {
            (Err(_), true) => true,
            (Ok(r0), false) => Some(*r0) == f.result,
            _ => false,
        };
        if let Some((_, why)) = KERNEL_DIFFERS.iter().find(|(n, _)| *n == name) {
            assert!(!ok, "{name} now agrees with uBPF: {why}");
            differ += 1;
        } else if ok {
            passed += 1;
        } else {
            failures.push(format!(
                "{name}: got {got:?}, expected {:?} / error {expect_error}",
                f.result
            ));
        }
    }
    println!("uBPF tests: {passed} passed, {differ} differ on purpose (kernel semantics), {skipped} skipped");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed >= 70, "only {passed} ran");
}
