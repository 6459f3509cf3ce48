//! The loader against libbpf on a corpus no one here wrote: the Linux 6.1 BPF selftests and
//! samples, built by `.ci/build-corpus` into `$BPFX_CORPUS_DIR` (default `target/corpus`)
//! together with libbpf's answer for each object (`libbpf.tsv`, from `.ci/libbpf-open.c`).
//!
//! For every object libbpf opens, bpfx must open it too ([`Object::parse`]) with the same
//! programs (names, sections, in libbpf's order) and the same program types wherever libbpf
//! knows one. The objects where bpfx disagrees today are listed, with the reason, in
//! `testdata/corpus/expected.txt`, and those where it agrees in `agree.txt`: an object of
//! `agree.txt` that now disagrees fails the test (a regression); a listed object that now
//! agrees is reported, to be removed from `expected.txt`; an object in neither (a kernel whose
//! `vmlinux.h` lets other sources build) is reported. `BPFX_BLESS=1` rewrites both lists from
//! this run (entries for objects this run did not build, e.g. with `BPFX_CORPUS=subset`, are
//! kept).
//!
//! The programs bpfx opens are also given to the verifier (informational: the counts of
//! verdicts are printed, nothing is asserted about them).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use obj::Object;

/// A program as libbpf lists it.
#[derive(Debug)]
struct LibbpfProg {
    name: String,
    section: String,
    /// `bpf_program__type`; 0 (`unspec`) when libbpf does not know the section name.
    prog_type: u32,
    type_name: String,
}

/// libbpf's answer for one object.
#[derive(Debug, Default)]
struct LibbpfObject {
    /// `None`: opened; `Some(message)`: `bpf_object__open_file` failed.
    error: Option<String>,
    progs: Vec<LibbpfProg>,
}

/// Where the corpus is, or `None` (after printing the skip) when it was not built.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("BPFX_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| test_support::workspace_root().join("target/corpus"));
    if dir.join("libbpf.tsv").is_file() {
        Some(dir)
    } else {
        println!(
            "skipped: corpus not built (run .ci/build-corpus; looked for {})",
            dir.join("libbpf.tsv").display()
        );
        None
    }
}

/// Reads `libbpf.tsv` (format in `.ci/libbpf-open.c`).
fn read_libbpf(path: &Path) -> BTreeMap<String, LibbpfObject> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut objects: BTreeMap<String, LibbpfObject> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || -> ! { panic!("{}:{}: malformed line `{line}`", path.display(), n + 1) };
        match f.as_slice() {
            [obj, "open", "ok"] => {
                objects.entry(obj.to_string()).or_default();
            }
            [obj, "open", err] => {
                objects.entry(obj.to_string()).or_default().error = Some(err.to_string());
            }
            [obj, "prog", name, section, t, type_name] => objects
                .entry(obj.to_string())
                .or_default()
                .progs
                .push(LibbpfProg {
                    name: name.to_string(),
                    section: section.to_string(),
                    prog_type: t.parse().unwrap_or_else(|_| bad()),
                    type_name: type_name.to_string(),
                }),
            _ => bad(),
        }
    }
    objects
}

/// `libbpf-load.tsv` when it was made (`BPFX_CORPUS_LOAD=1`): (object, program) → whether
/// the kernel loaded it through libbpf. Empty when absent.
fn read_loads(path: &Path) -> BTreeMap<(String, String), bool> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| match l.split('\t').collect::<Vec<_>>().as_slice() {
            [obj, "load", name, verdict] => {
                Some(((obj.to_string(), name.to_string()), *verdict == "ok"))
            }
            _ => None,
        })
        .collect()
}

/// A message with its particulars blanked, so that the same cause in different objects reads
/// the same: the name in backquotes after `map`, `program`, `section`, `against`, `extern` or
/// `symbol` becomes `…` (except names of special sections, `.BTF`, `.maps` ..., which are the
/// cause, and the `?` of a section that is not loaded by default, `?…`), and numbers become
/// `N`. Other backquoted words (`max_entries` in "no `max_entries` in its definition") stay.
fn cause_of(message: &str) -> String {
    const NAMED: [&str; 6] = [
        "map ", "program ", "section ", "against ", "extern ", "symbol ",
    ];
    let mut out = String::new();
    let mut rest = message;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else {
            rest = &rest[start..];
            break;
        };
        let name = &after[..end];
        if !NAMED.iter().any(|w| out.ends_with(w)) || name.starts_with('.') {
            out.push_str(&format!("`{name}`"));
        } else if name.starts_with('?') {
            out.push_str("`?…`");
        } else {
            out.push_str("`…`");
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    // Numbers: byte offsets, instruction indexes, sizes.
    test_support::blank_numbers(&out)
}

/// Runs `f`, turning a panic into an error naming it (the corpus must not stop at the first
/// object that makes the loader or the verifier panic).
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("panicked: {msg}")
    })
}

/// The first way bpfx's reading of an object differs from libbpf's, or `None`.
fn compare(libbpf: &LibbpfObject, ours: &Object) -> Option<String> {
    let theirs: Vec<(&str, &str)> = libbpf
        .progs
        .iter()
        .map(|p| (p.name.as_str(), p.section.as_str()))
        .collect();
    let mine: Vec<(&str, &str)> = ours
        .programs
        .iter()
        .map(|p| (p.name.as_str(), p.section.as_str()))
        .collect();
    if theirs != mine {
        let t: BTreeSet<_> = theirs.iter().collect();
        let m: BTreeSet<_> = mine.iter().collect();
        if let Some((name, section)) = t.difference(&m).next() {
            return Some(format!(
                "program `{name}` in `{section}` missing ({} libbpf, {} bpfx programs)",
                theirs.len(),
                mine.len()
            ));
        }
        if let Some((name, section)) = m.difference(&t).next() {
            return Some(format!(
                "extra program `{name}` in `{section}` ({} libbpf, {} bpfx programs)",
                theirs.len(),
                mine.len()
            ));
        }
        return Some("programs in another order than libbpf's".to_string());
    }
    for (l, p) in libbpf.progs.iter().zip(&ours.programs) {
        if l.prog_type != 0 && p.prog_type.map(|t| t.number()) != Some(l.prog_type) {
            return Some(format!(
                "program `{}` in `{}`: type {} (libbpf {})",
                l.name,
                l.section,
                p.prog_type.map_or("none", |t| t.name()),
                l.type_name
            ));
        }
    }
    None
}

/// How the verifier answered, grouped.
#[derive(Default)]
struct Verdicts {
    accepted: usize,
    /// message cause → count, for the kernel's rejections.
    rejected: BTreeMap<String, usize>,
    /// bpfx declining (a feature it does not model).
    unsupported: BTreeMap<String, usize>,
    panicked: BTreeMap<String, usize>,
    /// Time spent verifying (debug builds are slow: this is most of the test's time).
    time: std::time::Duration,
    /// With `libbpf-load.tsv`: (bpfx's verdict, whether the kernel loaded it through libbpf)
    /// → programs. The kernel saw the program after libbpf's CO-RE and extern relocations,
    /// bpfx before them, so this is a hint, not a differential test.
    against_kernel: BTreeMap<(&'static str, &'static str), usize>,
}

impl Verdicts {
    fn add(&mut self, object: &Object, p: &obj::Program, kernel_loads: Option<bool>) {
        // A section libbpf does not type either: nothing to verify it as.
        let Some(prog_type) = p.prog_type else {
            *self
                .unsupported
                .entry("section of no known program type".to_string())
                .or_default() += 1;
            return;
        };
        let mut opts = verifier::Options::new(prog_type);
        opts.expected_attach_type = p.expected_attach_type.map(|a| a.number());
        opts.maps = object.maps.iter().map(|m| m.spec.clone()).collect();
        opts.license = object.license.clone().unwrap_or_default();
        opts.sleepable = p.sleepable;
        opts.btf_func_info = !p.ext.func_info.is_empty();
        let start = std::time::Instant::now();
        let verdict = catching(|| verifier::verify(&p.insns, &opts));
        self.time += start.elapsed();
        let ours = match &verdict {
            Ok(Ok(_)) => "accepts",
            Ok(Err(r)) if r.kind == verifier::RejectKind::Kernel => "rejects",
            Ok(Err(_)) => "declines",
            Err(_) => "panics",
        };
        if let Some(loads) = kernel_loads {
            let theirs = if loads { "loads" } else { "rejects" };
            *self.against_kernel.entry((ours, theirs)).or_default() += 1;
        }
        match verdict {
            Ok(Ok(_)) => self.accepted += 1,
            Ok(Err(r)) => {
                let group = match r.kind {
                    verifier::RejectKind::Kernel => &mut self.rejected,
                    verifier::RejectKind::Unsupported => &mut self.unsupported,
                };
                *group.entry(cause_of(&r.message)).or_default() += 1;
            }
            Err(panic) => *self.panicked.entry(cause_of(&panic)).or_default() += 1,
        }
    }

    fn report(&self, out: &mut String) {
        let n = |m: &BTreeMap<String, usize>| m.values().sum::<usize>();
        let total = self.accepted + n(&self.rejected) + n(&self.unsupported) + n(&self.panicked);
        let _ = writeln!(
            out,
            "verifier: {total} programs: {} accepted, {} rejected, {} unsupported, {} panicked \
             ({:.1}s)",
            self.accepted,
            n(&self.rejected),
            n(&self.unsupported),
            n(&self.panicked),
            self.time.as_secs_f64()
        );
        for (what, m) in [
            ("rejected", &self.rejected),
            ("unsupported", &self.unsupported),
            ("panicked", &self.panicked),
        ] {
            let mut top: Vec<_> = m.iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (cause, count) in top.into_iter().take(8) {
                let _ = writeln!(out, "  {what} {count:>4}  {cause}");
            }
        }
        if !self.against_kernel.is_empty() {
            let _ = writeln!(out, "against the kernel through libbpf (libbpf-load.tsv):");
            for ((ours, theirs), count) in &self.against_kernel {
                let _ = writeln!(out, "  {count:>4}  bpfx {ours}, the kernel {theirs}");
            }
        }
    }
}

/// `testdata/corpus/expected.txt` or `agree.txt`: object → reason (empty in `agree.txt`),
/// comments skipped.
fn read_list(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('\t') {
            Some((o, r)) => (o.to_string(), r.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

const EXPECTED_HEADER: &str = "\
# The objects of the corpus built by .ci/build-corpus (Linux 6.1 BPF selftests and samples)
# that libbpf opens and bpfx's loader does not read the same way, with the first difference:
# OBJECT <TAB> REASON. object/tests/corpus.rs fails when an object of agree.txt differs and
# reports listed objects that now agree. Rewrite with BPFX_BLESS=1 cargo test -p bpfx-object
# --test corpus (entries for objects the run did not build are kept).
";

const AGREE_HEADER: &str = "\
# The objects of the corpus built by .ci/build-corpus that bpfx's loader reads as libbpf does
# (same programs, sections and types), one per line. object/tests/corpus.rs fails when one of
# them stops agreeing. Rewritten with expected.txt by BPFX_BLESS=1.
";

#[test]
fn bpfx_opens_what_libbpf_opens() {
    let Some(dir) = corpus() else { return };
    let libbpf = read_libbpf(&dir.join("libbpf.tsv"));
    let built = std::fs::read_to_string(dir.join("built.txt")).unwrap_or_default();
    let failed = std::fs::read_to_string(dir.join("failed.txt")).unwrap_or_default();
    let timing = std::fs::read_to_string(dir.join("timing.txt")).unwrap_or_default();
    let loads = read_loads(&dir.join("libbpf-load.tsv"));
    println!(
        "corpus: {}: {} objects built, {} sources failed to build; {}",
        dir.display(),
        built.lines().count(),
        failed.lines().count(),
        timing.trim()
    );

    // The loader and the verifier panic loudly by default; a panic here is a result.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));

    let mut opened = 0;
    let mut libbpf_opened = 0;
    let mut mismatches: BTreeMap<String, String> = BTreeMap::new();
    let mut verdicts = Verdicts::default();
    for (path, theirs) in &libbpf {
        if theirs.error.is_some() {
            continue;
        }
        libbpf_opened += 1;
        let file = dir.join("obj").join(path);
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let ours = match catching(|| Object::parse(&bytes)) {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                mismatches.insert(path.clone(), format!("bpfx fails to open: {e}"));
                continue;
            }
            Err(p) => {
                mismatches.insert(path.clone(), format!("bpfx fails to open: {p}"));
                continue;
            }
        };
        opened += 1;
        if let Some(why) = compare(theirs, &ours) {
            mismatches.insert(path.clone(), why);
        }
        for p in &ours.programs {
            let kernel = loads.get(&(path.clone(), p.name.clone())).copied();
            verdicts.add(&ours, p, kernel);
        }
    }
    panic::set_hook(hook);

    let mut report = String::new();
    let _ = writeln!(
        report,
        "objects: {libbpf_opened} libbpf-opened, {opened} bpfx-opened, {} mismatches",
        mismatches.len()
    );
    let libbpf_failed: Vec<_> = libbpf.iter().filter(|(_, o)| o.error.is_some()).collect();
    if !libbpf_failed.is_empty() {
        let _ = writeln!(
            report,
            "  ({} built objects libbpf itself does not open, not compared)",
            libbpf_failed.len()
        );
    }
    // Mismatches grouped by cause, the most frequent first; the first 20 objects named.
    let mut by_cause: BTreeMap<String, Vec<(&String, &String)>> = BTreeMap::new();
    for (o, why) in &mismatches {
        by_cause.entry(cause_of(why)).or_default().push((o, why));
    }
    let mut causes: Vec<_> = by_cause.into_iter().collect();
    causes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut named = 0;
    for (cause, objects) in &causes {
        let _ = writeln!(report, "  {:>4}  {cause}", objects.len());
        for (o, why) in objects {
            if named < 20 {
                let _ = writeln!(report, "          {o}: {why}");
                named += 1;
            }
        }
    }
    verdicts.report(&mut report);
    print!("{report}");

    // Against the expectation: regressions fail, improvements are reported. A regression is
    // a difference in an object the baseline saw agree (agree.txt); an object the baseline
    // never saw (another kernel's vmlinux.h lets other sources build) is only reported.
    let data = test_support::workspace_root().join("testdata/corpus");
    let expected = read_list(&data.join("expected.txt"));
    let agreed = read_list(&data.join("agree.txt"));
    let compared: BTreeSet<&String> = libbpf
        .iter()
        .filter(|(_, o)| o.error.is_none())
        .map(|(p, _)| p)
        .collect();
    if test_support::bless() {
        // Keep what this run could not see; replace the rest with this run's results.
        let unseen = |(o, _): &(String, String)| !compared.contains(o);
        let mut differ: BTreeMap<String, String> = expected.into_iter().filter(unseen).collect();
        differ.extend(mismatches.iter().map(|(o, w)| (o.clone(), w.clone())));
        let mut agree: BTreeMap<String, String> = agreed.into_iter().filter(unseen).collect();
        agree.extend(
            compared
                .iter()
                .filter(|o| !mismatches.contains_key(**o))
                .map(|o| (o.to_string(), String::new())),
        );
        write_list(&data.join("expected.txt"), EXPECTED_HEADER, &differ);
        write_list(&data.join("agree.txt"), AGREE_HEADER, &agree);
        println!(
            "blessed: {} ({} differ, {} agree)",
            data.display(),
            differ.len(),
            agree.len()
        );
        return;
    }
    let mut regressions = Vec::new();
    for (o, why) in &mismatches {
        match expected.get(o) {
            None if agreed.contains_key(o) => regressions.push(format!("{o}: {why}")),
            None => println!(
                "new object {o} (not in testdata/corpus; BPFX_BLESS=1 adds it) differs: {why}"
            ),
            Some(was) if was != why => {
                println!("changed reason for {o} (still listed): was `{was}`, now `{why}`")
            }
            Some(_) => {}
        }
    }
    for o in expected.keys() {
        if compared.contains(o) && !mismatches.contains_key(o) {
            println!(
                "now opens {o}: remove it from testdata/corpus/expected.txt (or BPFX_BLESS=1)"
            );
        }
    }
    assert!(
        regressions.is_empty(),
        "{} objects that bpfx read as libbpf did now differ (listed in {}):\n{}",
        regressions.len(),
        data.join("agree.txt").display(),
        regressions.join("\n")
    );
}

/// Writes `OBJECT <TAB> REASON` lines (or `OBJECT` alone for an empty reason) after a header.
fn write_list(path: &Path, header: &str, entries: &BTreeMap<String, String>) {
    let mut text = header.to_string();
    for (o, why) in entries {
        if why.is_empty() {
            let _ = writeln!(text, "{o}");
        } else {
            let _ = writeln!(text, "{o}\t{}", why.replace(['\t', '\n'], " "));
        }
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn causes_blank_the_particulars() {
    assert_eq!(
        cause_of("section `kprobe/do_sys_open`, relocation at byte 16 against `x`: no map"),
        "section `…`, relocation at byte N against `…`: no map"
    );
    assert_eq!(
        cause_of("map `ringbuf`: no `max_entries` in its definition"),
        "map `…`: no `max_entries` in its definition"
    );
    assert_eq!(
        cause_of("section `.kconfig`: 12 bytes"),
        "section `.kconfig`: N bytes"
    );
}
