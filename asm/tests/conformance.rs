//! The eBPF conformance suite as an oracle for the ubpf-dialect assembler: every program
//! must assemble to the bytes the suite's own assembler produced (`golden/tests.jsonl`), and
//! every program that assembler rejects must be rejected here too.
//!
//! The corpus lives outside the repository: `$BPFX_CONFORMANCE_DIR` (the `bpf_conformance`
//! folder holding `tests/`, `negative/` and `golden/`) or `../shared/conformance/
//! bpf_conformance` beside the workspace. uBPF's own tests are read from
//! `$BPFX_UBPF_TESTS_DIR` or `../shared/conformance/ubpf/tests`.

use asm::text::data_file::{self, DataFile};
use asm::text::{assemble, Dialect};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    test_support::shared_dir()
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("BPFX_CONFORMANCE_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            // Accept the `tests` folder itself as well as its parent.
            if d.join("tests").is_dir() {
                d
            } else {
                d.parent().map(Path::to_path_buf).unwrap_or(d)
            }
        }
        None => shared().join("conformance/bpf_conformance"),
    };
    if dir.join("tests").is_dir() && dir.join("golden").is_dir() {
        Some(dir)
    } else {
        println!("skipped: conformance corpus not found at {}", dir.display());
        None
    }
}

#[derive(Debug)]
struct Golden {
    file: String,
    ok: bool,
    prog: String,
    exception: String,
}

fn golden(dir: &Path, name: &str) -> Vec<Golden> {
    let path = dir.join("golden").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}"));
            let s = |k: &str| {
                v.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            Golden {
                file: s("file"),
                ok: v["ok"].as_bool().expect("ok is a bool"),
                prog: s("prog"),
                exception: s("exception"),
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_data(path: &Path) -> DataFile {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    data_file::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Assembles a data file's asm section to hex, or renders the diagnostics.
fn assemble_hex(f: &DataFile) -> Result<String, String> {
    let src = f.asm.as_deref().unwrap_or_default();
    assemble(src, Dialect::Ubpf)
        .map(|a| hex(&a.bytes()))
        .map_err(|ds| {
            ds.iter()
                .map(|d| {
                    let (line, col) = asm::diag::LineIndex::new(src).line_col(d.span.start);
                    format!("{line}:{col}: {d}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
}

#[test]
fn corpus_assembles_to_golden_bytes() {
    let Some(dir) = conformance_dir() else { return };
    let golden: BTreeMap<String, Golden> = golden(&dir, "tests.jsonl")
        .into_iter()
        .map(|g| (g.file.clone(), g))
        .collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("tests"))
        .expect("tests dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no .data files in {}",
        dir.join("tests").display()
    );

    let mut identical = 0;
    let mut raw_checked = 0;
    let mut failures = Vec::new();
    for path in &files {
        let key = format!("tests/{}", path.file_name().unwrap().to_string_lossy());
        let Some(g) = golden.get(&key) else {
            failures.push(format!("{key}: no golden entry"));
            continue;
        };
        assert!(g.ok, "{key}: golden says the official assembler failed");
        let f = read_data(path);
        let mut ok = f.asm.is_some() || f.raw.is_some();
        if f.asm.is_some() {
            match assemble_hex(&f) {
                Ok(h) if h == g.prog => {}
                Ok(h) => {
                    failures.push(format!("{key}: assembled {h}\n    golden    {}", g.prog));
                    ok = false;
                }
                Err(e) => {
                    failures.push(format!("{key}: {e}"));
                    ok = false;
                }
            }
        }
        if let Some(raw) = &f.raw {
            raw_checked += 1;
            if hex(raw) != g.prog {
                failures.push(format!(
                    "{key}: raw {} differs from golden {}",
                    hex(raw),
                    g.prog
                ));
                ok = false;
            }
        }
        if ok {
            identical += 1;
        }
    }
    println!(
        "conformance asm: {identical}/{} identical ({raw_checked} raw sections checked)",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(identical, files.len());
}

/// What a rejection by the official assembler means, and a phrase our diagnostic for the
/// same mistake must contain.
const CATEGORIES: &[(&str, &str)] = &[
    ("Immediate out of 32-bit range", "out of 32-bit range"),
    ("Offset out of 16-bit range", "out of 16-bit range"),
    ("Invalid label", "unknown label"),
    (
        "Invalid number of operands for mnemonic",
        "invalid number of operands",
    ),
    (
        "Invalid number of operands for lock",
        "invalid number of operands",
    ),
    ("Invalid mnemonic", "invalid mnemonic"),
    ("Failed to decode register and offset", "memory operand"),
    ("Invalid register", "invalid register"),
];

#[test]
fn negative_cases_are_rejected() {
    let Some(dir) = conformance_dir() else { return };
    let entries = golden(&dir, "negative.jsonl");
    assert!(!entries.is_empty());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for g in &entries {
        let f = read_data(&dir.join(&g.file));
        if !g.ok {
            let category = g.exception.split(':').next().unwrap_or_default();
            let Some((_, phrase)) = CATEGORIES.iter().find(|(c, _)| *c == category) else {
                failures.push(format!("{}: unknown category `{}`", g.file, g.exception));
                continue;
            };
            let src = f.asm.as_deref().unwrap_or_default();
            match assemble(src, Dialect::Ubpf) {
                Ok(a) => failures.push(format!(
                    "{}: accepted ({}) but golden says {}",
                    g.file,
                    hex(&a.bytes()),
                    g.exception
                )),
                Err(ds) if ds.iter().any(|d| d.to_string().contains(phrase)) => {
                    *counts
                        .entry(format!("asm rejected: {category}"))
                        .or_default() += 1;
                }
                Err(ds) => failures.push(format!(
                    "{}: rejected for another reason than `{}`: {}",
                    g.file,
                    g.exception,
                    ds.iter()
                        .map(|d| d.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            }
        } else if let Some(raw) = &f.raw {
            // The `unused-*` cases: a field the instruction does not use is non-zero.
            match asm::decode(raw) {
                Ok(_) => failures.push(format!("{}: decode accepted {}", g.file, hex(raw))),
                Err(e) => {
                    *counts
                        .entry(format!("raw rejected by decode: {}", kind_name(&e.kind)))
                        .or_default() += 1;
                }
            }
        } else if f.asm.is_some() {
            match assemble_hex(&f) {
                Ok(h) if h == g.prog => {
                    *counts
                        .entry("asm valid, bytes identical".into())
                        .or_default() += 1
                }
                Ok(h) => failures.push(format!("{}: assembled {h}, golden {}", g.file, g.prog)),
                Err(e) => failures.push(format!("{}: {e}", g.file)),
            }
        } else {
            assert_eq!(
                g.prog, "",
                "{}: golden has a program but the file has none",
                g.file
            );
            *counts.entry("no program section".into()).or_default() += 1;
        }
    }
    for (what, n) in &counts {
        println!("negative: {n:3} {what}");
    }
    println!(
        "negative: {}/{} as expected",
        counts.values().sum::<usize>(),
        entries.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(counts.values().sum::<usize>(), entries.len());
}

fn kind_name(k: &asm::insn::DecodeErrorKind) -> &'static str {
    use asm::insn::DecodeErrorKind::*;
    match k {
        UnknownOpcode { .. } => "unknown opcode",
        Reserved { .. } => "reserved field not zero",
        BadRegister { .. } => "bad register",
        BadPseudo { .. } => "bad pseudo source",
        TruncatedLddw => "truncated lddw",
        BadLddwSecondSlot => "bad lddw second slot",
        TrailingBytes { .. } => "trailing bytes",
    }
}

/// Sections whose meaning is standard (the rest are uBPF's own: `-- c`, `-- no jit`,
/// `-- asm @ file`, `-- pyelf` ...).
fn standard_only(f: &DataFile) -> bool {
    f.other_sections.is_empty()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "data") {
            out.push(p);
        }
    }
}

#[test]
fn ubpf_own_tests() {
    let dir = std::env::var_os("BPFX_UBPF_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared().join("conformance/ubpf/tests"));
    if !dir.is_dir() {
        println!("skipped: uBPF tests not found at {}", dir.display());
        return;
    }
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.sort();
    let (mut assembled, mut standard, mut raw_equal, mut external_asm) = (0, 0, 0, 0);
    let (mut other_with_asm, mut other_assembled) = (0, 0);
    let mut skipped = BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    let mut raw_mismatch = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).expect("readable");
        let f = match data_file::parse(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: data file: {e}"));
                continue;
            }
        };
        // uBPF's `-- asm @ file.asm`: the program lives in a file beside the test.
        for s in &f.other_sections {
            if let Some(file) = s.strip_prefix("asm @ ") {
                let asm_path = path.parent().expect("in a folder").join(file.trim());
                let src = std::fs::read_to_string(&asm_path).unwrap_or_default();
                let f = DataFile {
                    asm: Some(src),
                    ..DataFile::default()
                };
                match assemble_hex(&f) {
                    Ok(_) => external_asm += 1,
                    Err(e) => failures.push(format!("{name} ({}): {e}", asm_path.display())),
                }
            }
        }
        if !standard_only(&f) {
            for s in &f.other_sections {
                *skipped.entry(s.clone()).or_default() += 1;
            }
            // Their asm is still ubpf syntax: try it, without making it a requirement.
            if f.asm.is_some() {
                other_with_asm += 1;
                match assemble_hex(&f) {
                    Ok(_) => other_assembled += 1,
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
            continue;
        }
        if f.asm.is_none() {
            *skipped.entry("(no asm section)".into()).or_default() += 1;
            continue;
        }
        standard += 1;
        match assemble_hex(&f) {
            Ok(h) => {
                assembled += 1;
                if let Some(raw) = &f.raw {
                    if hex(raw) == h {
                        raw_equal += 1;
                    } else {
                        raw_mismatch.push(format!("{name}: asm {h}\n    raw {}", hex(raw)));
                    }
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!(
        "ubpf tests: {assembled}/{standard} with only standard sections assemble ({raw_equal} also match their raw section); {} files in all",
        files.len()
    );
    println!("ubpf tests: {external_asm} `-- asm @ file` programs assemble");
    println!("ubpf tests: {other_assembled}/{other_with_asm} asm sections of files with uBPF-only sections assemble");
    for (s, n) in &skipped {
        println!("ubpf tests: {n} files not run as standard tests: section `{s}`");
    }
    for f in &failures {
        println!("ubpf tests: does not assemble: {f}");
    }
    for m in &raw_mismatch {
        println!("ubpf tests: asm and raw differ: {m}");
    }
    // uBPF's tests are not an oracle for this syntax (they may use uBPF-only spellings),
    // so failures are listed rather than fatal; but the standard ones we parse must agree
    // with their raw twin, where the file gives one.
    assert!(raw_mismatch.is_empty(), "asm and raw sections disagree");
}
