//! bpfx's verifier against the kernel's on programs no one here wrote: every program of the
//! real corpus (Linux 6.1 BPF selftests and samples built with clang-19 by `.ci/build-corpus`
//! into `$BPFX_CORPUS_DIR`, default `target/corpus`) that the kernel verified when libbpf
//! loaded it (`libbpf-load.tsv`, made with `BPFX_CORPUS_LOAD=1` by `.ci/libbpf-open.c`: the
//! verdict, and for a rejection the first error line of the kernel's log).
//!
//! Each object is read as a loader does: [`obj::Object::parse`], CO-RE relocations against
//! this kernel's BTF ([`obj::Object::relocate_core_for_load`]), the object's maps as the
//! verifier's maps (as `bpfx verify OBJ` does), then every program verified on its own.
//!
//! Programs the kernel never verified (libbpf failed before `BPF_PROG_LOAD`: a map it could
//! not create, an extern or attach target it could not find, a section it does not type) are
//! left out and counted. For the others the report gives: agreement on the verdict, the same
//! first message among programs both reject, bpfx declining (`Unsupported`, on its own line,
//! never agreement) with its top reasons, and what bpfx could not verify at all (an extern it
//! does not resolve, a section of no type).
//!
//! `testdata/corpus/verifier.txt` records each program's outcome, and the kernel release the
//! answers came from. A program recorded as agreeing (`same` or `verdict`) that now does
//! worse fails the test (a regression); other changes are reported. On another kernel
//! release the kernel's answers may differ, so regressions are then reported, not failed. `BPFX_BLESS=1` rewrites the file from this run (entries for objects
//! this run did not see are kept).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use obj::Object;

/// What the kernel made of a program loaded through libbpf.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kernel {
    /// Loaded.
    Accept,
    /// The verifier refused it: the first error line of its log.
    Reject(String),
    /// libbpf failed before the verifier saw the program; its message.
    NotVerified(String),
}

/// What bpfx made of it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Bpfx {
    Accept,
    Reject(String),
    /// bpfx declines: a feature it does not model.
    Unsupported(String),
    /// bpfx cannot give it to the verifier at all (extern, untyped section, CO-RE failure).
    NotVerified(String),
    Panic(String),
}

/// One program's outcome, as recorded in the expectations file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Same verdict and (for rejections) the same first message.
    Same,
    /// Same verdict, another first message (or the kernel's is unknown).
    Verdict,
    /// bpfx declines.
    Unsupported,
    /// bpfx cannot verify it (extern, no type, CO-RE).
    NotVerified,
    /// Different verdicts.
    Differ,
    /// bpfx panicked.
    Panic,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Same => "same",
            Outcome::Verdict => "verdict",
            Outcome::Unsupported => "unsupported",
            Outcome::NotVerified => "not-verified",
            Outcome::Differ => "differ",
            Outcome::Panic => "panic",
        }
    }

    fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "same" => Outcome::Same,
            "verdict" => Outcome::Verdict,
            "unsupported" => Outcome::Unsupported,
            "not-verified" => Outcome::NotVerified,
            "differ" => Outcome::Differ,
            "panic" => Outcome::Panic,
            _ => return None,
        })
    }

    /// Whether the verdicts agree.
    fn agrees(self) -> bool {
        matches!(self, Outcome::Same | Outcome::Verdict)
    }
}

/// Where the corpus is, or `None` (after printing the skip) when it or the kernel's answers
/// are missing.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("BPFX_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| test_support::workspace_root().join("target/corpus"));
    if !dir.join("libbpf.tsv").is_file() {
        println!(
            "skipped: corpus not built (run .ci/build-corpus; looked for {})",
            dir.join("libbpf.tsv").display()
        );
        return None;
    }
    if !dir.join("libbpf-load.tsv").is_file() {
        println!(
            "skipped: the kernel's answers are missing (run BPFX_CORPUS_LOAD=1 .ci/build-corpus \
             as root; looked for {})",
            dir.join("libbpf-load.tsv").display()
        );
        return None;
    }
    Some(dir)
}

/// Reads `libbpf-load.tsv` (format in `.ci/libbpf-open.c`): (object, program) → the kernel's
/// answer. A `*` line (timeout, crash) is for the object's remaining programs, which stay
/// absent.
fn read_loads(path: &Path) -> BTreeMap<(String, String), Kernel> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut loads = BTreeMap::new();
    let mut logs = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        match line.split('\t').collect::<Vec<_>>().as_slice() {
            [_, "load", "*", _] => {}
            [obj, "load", name, verdict] => {
                let k = if *verdict == "ok" {
                    Kernel::Accept
                } else {
                    // BPF_PROG_LOAD failed, or libbpf failed before it; a `log` line below
                    // makes it the verifier's refusal. Without a log the kernel refused the
                    // program before its verifier said anything (attach target, privileges).
                    Kernel::NotVerified(verdict.to_string())
                };
                loads.insert((obj.to_string(), name.to_string()), k);
            }
            [obj, "log", name, message] => {
                logs.insert((obj.to_string(), name.to_string()), message.to_string());
            }
            // The manifest's other kinds (`open`, `prog`), when a grep let them through.
            [_, "open", ..] | [_, "prog", ..] => {}
            _ => panic!("{}:{}: malformed line `{line}`", path.display(), n + 1),
        }
    }
    for (key, message) in logs {
        if let Some(k @ Kernel::NotVerified(_)) = loads.get_mut(&key) {
            *k = Kernel::Reject(message);
        }
    }
    loads
}

/// A message with numbers blanked, so the same cause in different programs reads the same.
fn cause_of(message: &str) -> String {
    test_support::blank_numbers(message)
}

/// Runs `f`, turning a panic into its message.
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// bpfx's answer for every program of one object (by name), read as a loader does.
fn verify_object(
    bytes: &[u8],
    btf: Option<&obj::core::Btf>,
) -> Result<Vec<(String, Bpfx)>, String> {
    let mut object = Object::parse(bytes).map_err(|e| format!("bpfx cannot open it: {e}"))?;
    if object.has_core_relos() {
        let Some(btf) = btf else {
            return Err("no kernel BTF for its CO-RE relocations".into());
        };
        object
            .relocate_core_for_load(Some(btf))
            .map_err(|e| format!("CO-RE: {e}"))?;
    }
    // `__kconfig` externs take this kernel's configuration, as libbpf gave them when the
    // kernel's answers were recorded (an object whose values cannot be laid out stays
    // unverified, naming the extern).
    if object.externs.iter().any(|e| e.kconfig.is_some()) {
        if let Ok(config) = kernel::object::host_kernel_config() {
            object
                .resolve_kconfig(&config)
                .map_err(|e| format!("kconfig: {e}"))?;
        }
    }
    let maps: Vec<verifier::MapSpec> = object.maps.iter().map(|m| m.spec.clone()).collect();
    let mut out = Vec::new();
    for p in &object.programs {
        let verdict = if let Err(e) = p.loadable() {
            Bpfx::NotVerified(e.replace(&p.name, "…"))
        } else if let Some(prog_type) = p.prog_type {
            let mut opts = verifier::Options::new(prog_type);
            opts.expected_attach_type = p.expected_attach_type.map(|a| a.number());
            opts.maps = maps.clone();
            // BTF linkage is not in bpfx's object model: every function counts as static.
            opts.btf_func_info = !p.ext.func_info.is_empty();
            match catching(|| verifier::verify(&p.insns, &opts)) {
                Ok(Ok(_)) => Bpfx::Accept,
                Ok(Err(r)) if r.kind == verifier::RejectKind::Kernel => Bpfx::Reject(r.message),
                Ok(Err(r)) => Bpfx::Unsupported(r.message),
                Err(p) => Bpfx::Panic(p),
            }
        } else {
            Bpfx::NotVerified("section of no known program type".into())
        };
        out.push((p.name.clone(), verdict));
    }
    Ok(out)
}

fn outcome(kernel: &Kernel, ours: &Bpfx) -> Outcome {
    match (kernel, ours) {
        (_, Bpfx::Unsupported(_)) => Outcome::Unsupported,
        (_, Bpfx::NotVerified(_)) => Outcome::NotVerified,
        (_, Bpfx::Panic(_)) => Outcome::Panic,
        (Kernel::Accept, Bpfx::Accept) => Outcome::Same,
        (Kernel::Reject(k), Bpfx::Reject(b)) if k == b => Outcome::Same,
        (Kernel::Reject(_), Bpfx::Reject(_)) => Outcome::Verdict,
        _ => Outcome::Differ,
    }
}

const HEADER: &str = "\
# bpfx's verifier against the kernel's on the corpus of .ci/build-corpus (BPFX_CORPUS_LOAD=1):
# OBJECT <TAB> PROGRAM <TAB> OUTCOME <TAB> DETAIL, for every program the kernel verified.
# OUTCOME: same (verdict and first message), verdict (same verdict, other message), differ,
# unsupported (bpfx declines), not-verified (bpfx cannot give it to the verifier), panic.
# verifier/tests/corpus_differential.rs fails when a `same` or `verdict` program does worse.
# Rewrite with BPFX_BLESS=1 cargo test -p bpfx-verifier --test corpus_differential.
";

/// The running kernel's release (`uname -r`), which the expectations are tied to.
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The release named in the expectations file (`# kernel release: ...`).
fn expected_release(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("# kernel release: "))
        .map(|r| r.trim().to_string())
}

/// The expectations: (object, program) → outcome.
fn read_expected(path: &Path) -> BTreeMap<(String, String), (Outcome, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            let (o, p, out) = match f.as_slice() {
                [o, p, out, ..] => (o, p, out),
                _ => panic!("{}: malformed line `{l}`", path.display()),
            };
            let outcome = Outcome::parse(out)
                .unwrap_or_else(|| panic!("{}: unknown outcome in `{l}`", path.display()));
            let line = l.to_string();
            ((o.to_string(), p.to_string()), (outcome, line))
        })
        .collect()
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

fn top(out: &mut String, what: &str, m: &BTreeMap<String, usize>, n: usize) {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (cause, count) in v.into_iter().take(n) {
        let _ = writeln!(out, "  {what} {count:>4}  {cause}");
    }
}

#[test]
fn verifier_agrees_with_the_kernel_on_the_corpus() {
    let Some(dir) = corpus() else { return };
    let loads = read_loads(&dir.join("libbpf-load.tsv"));
    let btf = obj::core::kernel_btf().ok();
    let objects: BTreeSet<&String> = loads.keys().map(|(o, _)| o).collect();

    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let start = std::time::Instant::now();
    let mut rows: BTreeMap<(String, String), (Outcome, String)> = BTreeMap::new();
    let mut kernel_not_verified: BTreeMap<String, usize> = BTreeMap::new();
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_verified: BTreeMap<String, usize> = BTreeMap::new();
    let mut differ: BTreeMap<String, usize> = BTreeMap::new();
    let mut messages: BTreeMap<String, usize> = BTreeMap::new();
    let (mut both_reject, mut same_message) = (0, 0);
    for o in objects {
        let file = dir.join("obj").join(o);
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let ours = match catching(|| verify_object(&bytes, btf.as_ref())) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => loads
                .keys()
                .filter(|(lo, _)| lo == o)
                .map(|(_, p)| (p.clone(), Bpfx::NotVerified(e.clone())))
                .collect(),
            Err(p) => loads
                .keys()
                .filter(|(lo, _)| lo == o)
                .map(|(_, n)| (n.clone(), Bpfx::Panic(p.clone())))
                .collect(),
        };
        for (name, ours) in ours {
            let Some(kernel) = loads.get(&(o.clone(), name.clone())) else {
                continue;
            };
            if let Kernel::NotVerified(why) = kernel {
                *kernel_not_verified
                    .entry(cause_of(&why.replace(&name, "…")))
                    .or_default() += 1;
                continue;
            }
            let out = outcome(kernel, &ours);
            let render = |k: &Kernel| match k {
                Kernel::Accept => "accept".to_string(),
                Kernel::Reject(m) => format!("reject {m}"),
                Kernel::NotVerified(_) => unreachable!("left out above"),
            };
            let detail = match &ours {
                Bpfx::Accept => "bpfx accept".to_string(),
                Bpfx::Reject(m) => format!("bpfx reject {m}"),
                Bpfx::Unsupported(m) => {
                    *unsupported.entry(cause_of(m)).or_default() += 1;
                    format!("bpfx unsupported {m}")
                }
                Bpfx::NotVerified(m) => {
                    *not_verified.entry(cause_of(m)).or_default() += 1;
                    format!("bpfx not verified {m}")
                }
                Bpfx::Panic(m) => format!("bpfx panic {m}"),
            };
            if let (Kernel::Reject(k), Bpfx::Reject(b)) = (kernel, &ours) {
                both_reject += 1;
                if k == b {
                    same_message += 1;
                } else {
                    *messages
                        .entry(format!("kernel `{}`, bpfx `{}`", cause_of(k), cause_of(b)))
                        .or_default() += 1;
                }
            }
            if out == Outcome::Differ {
                *differ
                    .entry(format!(
                        "kernel {}, {}",
                        cause_of(&render(kernel)),
                        cause_of(&detail)
                    ))
                    .or_default() += 1;
            }
            let line = format!(
                "{o}\t{name}\t{}\tkernel {}; {}",
                out.name(),
                render(kernel),
                detail
            )
            .replace('\n', " ");
            rows.insert((o.clone(), name), (out, line));
        }
    }
    panic::set_hook(hook);

    let total = rows.len();
    let count = |want: Outcome| rows.values().filter(|(o, _)| *o == want).count();
    let agree = count(Outcome::Same) + count(Outcome::Verdict);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "corpus differential: {} programs the kernel verified ({} more it never verified), \
         bpfx in {:.1}s",
        total,
        kernel_not_verified.values().sum::<usize>(),
        start.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  verdict agrees      {agree:>4}  {}",
        pct(agree, total)
    );
    let _ = writeln!(
        report,
        "  verdict differs     {:>4}  {}",
        count(Outcome::Differ),
        pct(count(Outcome::Differ), total)
    );
    let _ = writeln!(
        report,
        "  bpfx Unsupported    {:>4}  {}",
        count(Outcome::Unsupported),
        pct(count(Outcome::Unsupported), total)
    );
    let _ = writeln!(
        report,
        "  bpfx not verified   {:>4}  {}",
        count(Outcome::NotVerified),
        pct(count(Outcome::NotVerified), total)
    );
    let _ = writeln!(report, "  bpfx panicked       {:>4}", count(Outcome::Panic));
    let _ = writeln!(
        report,
        "  same first message  {same_message:>4} of {both_reject} both reject ({}); \
         {} of {total} programs same verdict and message ({})",
        pct(same_message, both_reject),
        count(Outcome::Same),
        pct(count(Outcome::Same), total)
    );
    top(&mut report, "unsupported", &unsupported, 12);
    top(&mut report, "not-verified", &not_verified, 6);
    top(&mut report, "differ", &differ, 12);
    top(&mut report, "message", &messages, 10);
    top(&mut report, "kernel-not-verified", &kernel_not_verified, 6);

    // Against the expectations.
    let path = test_support::workspace_root().join("testdata/corpus/verifier.txt");
    let expected = read_expected(&path);
    let mut regressions = Vec::new();
    let mut changes = Vec::new();
    for (key, (now, line)) in &rows {
        match expected.get(key) {
            Some((before, _)) if before.agrees() && !now.agrees() => regressions.push(line),
            Some((before, _)) if before != now => {
                changes.push(format!("{}: {line}", before.name()))
            }
            None => changes.push(format!("new: {line}")),
            _ => {}
        }
    }
    if !changes.is_empty() {
        let _ = writeln!(
            report,
            "{} programs changed outcome since {}:",
            changes.len(),
            path.display()
        );
        for c in changes.iter().take(20) {
            let _ = writeln!(report, "  {c}");
        }
    }
    println!("{report}");

    if test_support::bless() {
        let mut text = HEADER.to_string();
        text.push_str(&format!("# kernel release: {}\n", kernel_release()));
        let mut all: BTreeMap<&(String, String), &String> =
            expected.iter().map(|(k, (_, l))| (k, l)).collect();
        // Objects whose programs the kernel answered for were all seen by this run.
        let seen: BTreeSet<&String> = loads.keys().map(|(o, _)| o).collect();
        all.retain(|(o, _), _| !seen.contains(o));
        for (k, (_, l)) in &rows {
            all.insert(k, l);
        }
        for l in all.values() {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("blessed {}", path.display());
        return;
    }
    let release = kernel_release();
    if let Some(made_on) = expected_release(&path).filter(|r| *r != release) {
        println!(
            "skipped: regression check ({} made on kernel {made_on}, this is {release}); {} \
             programs that agreed there do not here",
            path.display(),
            regressions.len()
        );
        return;
    }
    assert!(
        regressions.is_empty(),
        "{} programs that agreed with the kernel no longer do:\n{}",
        regressions.len(),
        regressions
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
