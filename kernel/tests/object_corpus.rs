//! Real objects in the kernel through bpfx, against libbpf: every program of the corpus
//! (`.ci/build-corpus` with `BPFX_CORPUS_LOAD=1`: the Linux 6.1 selftests and samples, and
//! `libbpf-load.tsv`, whether the kernel loads each through libbpf) is loaded the way
//! `kernel::object::Loader` loads it — externs resolved from this kernel (its
//! configuration, BTF and kallsyms), CO-RE relocations applied against its BTF, the
//! object's BTF loaded, maps created with BTF ids, func info, line info, expected attach
//! type and attach BTF id given — one program at a time, as libbpf-open loads them.
//!
//! The programs where bpfx's outcome differs from libbpf's are listed with bpfx's reason
//! in `testdata/corpus/kernel-load.txt`: a program not listed that now differs fails the
//! test (a regression); a listed one that now agrees is reported, to be removed.
//! `BPFX_BLESS=1` rewrites the list. The counts and the top reasons for the differences
//! are printed. `BPFX_CORPUS_KERNEL_PLAIN=1` measures the loader before BTF and externs
//! (maps and programs alone, as `kernel::object::load_program` loads them), for
//! comparison; it checks nothing.
//!
//! Skips (printing why) without a corpus, without `libbpf-load.tsv`, or without bpf(2).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use kernel::object::Loader;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("BPFX_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| test_support::workspace_root().join("target/corpus"));
    if dir.join("libbpf-load.tsv").is_file() {
        Some(dir)
    } else {
        println!(
            "skipped: corpus load results not built (run .ci/build-corpus with BPFX_CORPUS_LOAD=1; looked for {})",
            dir.join("libbpf-load.tsv").display()
        );
        None
    }
}

/// (object, program) → whether libbpf loaded it, in file order.
fn read_loads(text: &str) -> Vec<((String, String), bool)> {
    text.lines()
        .filter_map(|l| match l.split('\t').collect::<Vec<_>>().as_slice() {
            [obj, "load", name, verdict] => {
                Some(((obj.to_string(), name.to_string()), *verdict == "ok"))
            }
            _ => None,
        })
        .collect()
}

/// Numbers blanked, so the same cause reads the same in every program.
fn cause_of(message: &str) -> String {
    test_support::blank_numbers(message)
}

/// One line: the verifier's reason, or the error.
fn reason(e: &kernel::Error) -> String {
    let text = match e.verifier_log() {
        Some(log) => match kernel::error::first_error_line(log) {
            Some(line) => format!("verifier: {line}"),
            None => e.to_string(),
        },
        None => e.to_string(),
    };
    text.replace(['\t', '\n'], " ")
}

struct Host {
    config: obj::externs::KernelConfig,
    vmlinux: Arc<obj::core::Btf>,
    kallsyms: HashMap<String, u64>,
}

/// bpfx's outcome for each program of one object: `Ok(())` loaded, `Err(reason)`.
fn load_object(
    bytes: &[u8],
    names: &[&str],
    host: &Host,
    plain: bool,
) -> BTreeMap<String, Result<(), String>> {
    let all = |r: String| {
        names
            .iter()
            .map(|n| (n.to_string(), Err(r.clone())))
            .collect()
    };
    let mut o = match obj::Object::parse(bytes) {
        Ok(o) => o,
        Err(e) => return all(format!("parse: {e}")),
    };
    if !plain {
        if let Err(e) = kernel::object::resolve_externs(&mut o, &host.config, &host.vmlinux, &|n| {
            host.kallsyms.get(n).copied()
        }) {
            return all(format!("externs: {e}"));
        }
        if let Err(e) = o.relocate_core_for_load(Some(&host.vmlinux)) {
            return all(format!("CO-RE: {e}"));
        }
    }
    let mut out = BTreeMap::new();
    let loader = if plain {
        None
    } else {
        match Loader::new(&o) {
            Ok(l) => Some(l.with_vmlinux(host.vmlinux.clone())),
            Err(e) => return all(format!("maps: {}", reason(&e))),
        }
    };
    let plain_maps = if plain {
        match kernel::object::create_maps(&o) {
            Ok(m) => m,
            Err(e) => return all(format!("maps: {}", reason(&e))),
        }
    } else {
        Vec::new()
    };
    for name in names {
        let Some(p) = o.programs.iter().find(|p| p.name == *name) else {
            out.insert(name.to_string(), Err("bpfx does not list it".into()));
            continue;
        };
        let r = (|| {
            p.loadable()?;
            let t = p.type_or(None)?;
            match &loader {
                Some(l) => l.load(&o, p, t).map(drop).map_err(|e| reason(&e)),
                None => kernel::object::load_program(&o, p, t, &plain_maps)
                    .map(drop)
                    .map_err(|e| reason(&e)),
            }
        })();
        out.insert(name.to_string(), r);
    }
    out
}

fn read_expected(path: &std::path::Path) -> BTreeMap<(String, String), String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((
                (f.next()?.to_owned(), f.next()?.to_owned()),
                f.next().unwrap_or("").to_owned(),
            ))
        })
        .collect()
}

const HEADER: &str = "\
# Programs of the corpus whose load in the kernel through bpfx (kernel::object::Loader)
# differs from libbpf's (libbpf-load.tsv): object, program, then `libbpf ok: <bpfx's reason>`
# or `libbpf failed: bpfx loads it`. Checked by kernel/tests/object_corpus.rs; rewrite with
# BPFX_BLESS=1 cargo test -p bpfx-kernel --test object_corpus.
";

#[test]
fn bpfx_loads_what_libbpf_loads() {
    let Some(dir) = corpus() else { return };
    if !test_support::kernel_available("object_corpus") {
        return;
    }
    let vmlinux = match obj::core::kernel_btf() {
        Ok(b) => Arc::new(b),
        Err(e) => {
            println!("skipped: no kernel BTF ({e})");
            return;
        }
    };
    let host = Host {
        config: kernel::object::host_kernel_config().unwrap_or_else(|e| {
            println!("note: no kernel configuration ({e}); kconfig externs stay unset");
            Default::default()
        }),
        vmlinux,
        kallsyms: kernel::object::host_kallsyms().unwrap_or_default(),
    };
    let plain = std::env::var_os("BPFX_CORPUS_KERNEL_PLAIN").is_some_and(|v| v == "1");
    let text = std::fs::read_to_string(dir.join("libbpf-load.tsv")).unwrap();
    let loads = read_loads(&text);
    let mut by_object: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    for ((o, p), ok) in &loads {
        by_object.entry(o).or_default().push((p, *ok));
    }
    let (mut both, mut libbpf_only, mut bpfx_only, mut neither) = (0, 0, 0, 0);
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    let mut differ: BTreeMap<(String, String), String> = BTreeMap::new();
    for (object, progs) in &by_object {
        let Ok(bytes) = std::fs::read(dir.join("obj").join(object)) else {
            println!("note: {object} is listed but not built here");
            continue;
        };
        let names: Vec<&str> = progs.iter().map(|p| p.0).collect();
        let ours = load_object(&bytes, &names, &host, plain);
        for (name, libbpf_ok) in progs {
            let r = &ours[*name];
            let key = (object.to_string(), name.to_string());
            match (libbpf_ok, r) {
                (true, Ok(())) => both += 1,
                (false, Err(_)) => neither += 1,
                (true, Err(why)) => {
                    libbpf_only += 1;
                    *causes.entry(cause_of(why)).or_default() += 1;
                    differ.insert(key, format!("libbpf ok: {why}"));
                }
                (false, Ok(())) => {
                    bpfx_only += 1;
                    differ.insert(key, "libbpf failed: bpfx loads it".into());
                }
            }
        }
    }
    let total = both + libbpf_only + bpfx_only + neither;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{} programs: libbpf loads {}, bpfx loads {}{} (both {both}, only libbpf {libbpf_only}, only bpfx {bpfx_only}, neither {neither})",
        total,
        both + libbpf_only,
        both + bpfx_only,
        if plain { " [plain: no BTF, no externs, no CO-RE]" } else { "" }
    );
    let mut top: Vec<_> = causes.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = writeln!(report, "why libbpf loads what bpfx does not (top 20):");
    for (cause, n) in top.iter().take(20) {
        let _ = writeln!(report, "  {n:4}  {cause}");
    }
    println!("{report}");
    if plain {
        return;
    }
    let path = test_support::workspace_root().join("testdata/corpus/kernel-load.txt");
    if test_support::bless() {
        let mut out = String::from(HEADER);
        for ((o, p), why) in &differ {
            let _ = writeln!(out, "{o}\t{p}\t{why}");
        }
        std::fs::write(&path, out).unwrap();
        println!("blessed {}", path.display());
        return;
    }
    let expected = read_expected(&path);
    let mut regressions = Vec::new();
    for (key, why) in &differ {
        if !expected.contains_key(key) {
            regressions.push(format!("{}\t{}\t{why}", key.0, key.1));
        }
    }
    let now_agree: Vec<_> = expected
        .keys()
        .filter(|k| !differ.contains_key(*k))
        .filter(|k| by_object.contains_key(k.0.as_str()))
        .collect();
    if !now_agree.is_empty() {
        println!(
            "{} listed programs now load as libbpf loads them (remove them with BPFX_BLESS=1):",
            now_agree.len()
        );
        for (o, p) in now_agree {
            println!("  {o} {p}");
        }
    }
    assert!(
        regressions.is_empty(),
        "{} programs now differ from libbpf and are not in {}:\n{}",
        regressions.len(),
        path.display(),
        regressions.join("\n")
    );
}
