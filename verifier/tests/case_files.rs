//! The verifier's hand-written cases, one program per file in `tests/cases/`, each in LLVM
//! assembly with its expectation in header comments:
//!
//! ```text
//! # What the case shows.
//! # type: sched_cls                  (default socket_filter)
//! # map: m=hash:8:8:1                (repeatable; `asm::types::MapSpec::parse_cli` spelling)
//! # privileged: no                   (default yes)
//! # func_info: yes                   (loaded with BTF func_info, every function static)
//! # global_func: N                   (with func_info: the function at slot N is global)
//! # timer: OFF                       (the last map's value holds a bpf_timer at OFF, as its
//! #                                   BTF would say; such a case cannot go to the kernel)
//! # expect: reject "R2 !read_ok" at 3 (EACCES)
//! # expect: accept
//! ```
//!
//! (`#` starts the comment because `;` separates statements in the LLVM dialect.) The one
//! test below runs every file and reports every mismatch; `BPFX_BLESS=1` rewrites each
//! file's `expect:` line from what the verifier now says.
//!
//! A second test loads every case into the running kernel (privileged, the case's maps
//! created for real) and holds its verdict, message and errno against the same `expect:`
//! line, so each case states the kernel's answer. A case the kernel cannot take as it is
//! says why in a `# kernel: <reason>` header (e.g. callbacks, which the kernel accepts only
//! with BTF `func_info`) and is skipped there, with the reason printed.

use asm::text::{assemble, Dialect};
use asm::types::{MapSpec, ProgType};
use std::path::{Path, PathBuf};
use verifier::{verify, Options, Rejection};

/// The errnos the cases use, by name.
const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", verifier::EPERM),
    ("E2BIG", verifier::E2BIG),
    ("EBADF", verifier::EBADF),
    ("EACCES", verifier::EACCES),
    ("EFAULT", verifier::EFAULT),
    ("EINVAL", verifier::EINVAL),
    ("ENOSPC", verifier::ENOSPC),
    ("ENOTSUPP", verifier::ENOTSUPP),
];

fn errno_name(e: i32) -> String {
    ERRNOS
        .iter()
        .find(|(_, n)| *n == e)
        .map(|(s, _)| s.to_string())
        .unwrap_or_else(|| e.to_string())
}

/// What a case expects.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject {
        message: String,
        insn: usize,
        errno: String,
    },
}

impl Expect {
    fn parse(s: &str) -> Result<Expect, String> {
        let s = s.trim();
        if s == "accept" {
            return Ok(Expect::Accept);
        }
        let syntax = || format!("`{s}`: want `accept` or `reject \"MESSAGE\" at N (ERRNO)`");
        let rest = s.strip_prefix("reject \"").ok_or_else(syntax)?;
        let close = rest.rfind("\" at ").ok_or_else(syntax)?;
        let message = rest[..close].to_string();
        let tail = &rest[close + "\" at ".len()..];
        let (insn, errno) = tail.split_once(" (").ok_or_else(syntax)?;
        Ok(Expect::Reject {
            message,
            insn: insn.trim().parse().map_err(|_| syntax())?,
            errno: errno.strip_suffix(')').ok_or_else(syntax)?.to_string(),
        })
    }

    fn render(&self) -> String {
        match self {
            Expect::Accept => "accept".to_string(),
            Expect::Reject {
                message,
                insn,
                errno,
            } => format!("reject \"{message}\" at {insn} ({errno})"),
        }
    }

    fn of(r: &Result<verifier::Accepted, Rejection>) -> Expect {
        match r {
            Ok(_) => Expect::Accept,
            Err(e) => Expect::Reject {
                message: e.message.clone(),
                insn: e.insn,
                errno: errno_name(e.errno),
            },
        }
    }
}

/// One case file, read.
struct Case {
    opts: Options,
    expect: Expect,
    source: String,
    /// Why the kernel cannot load the case as it is (`# kernel:`), if it cannot.
    kernel_skip: Option<String>,
}

fn header<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix(key)?
        .strip_prefix(':')
        .map(str::trim)
}

fn read_case(path: &Path) -> Result<Case, String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut opts = Options::new(ProgType::SocketFilter);
    let mut expect = None;
    let mut kernel_skip = None;
    for line in source.lines() {
        if let Some(why) = header(line, "kernel") {
            kernel_skip = Some(why.to_string());
        }
        if let Some(t) = header(line, "type") {
            opts.prog_type = t.parse()?;
        } else if let Some(m) = header(line, "map") {
            let (spec, note): (MapSpec, _) = MapSpec::parse_cli(m)?;
            if let Some(note) = note {
                return Err(format!("map `{m}`: {note}"));
            }
            opts.maps.push(spec);
        } else if let Some(p) = header(line, "privileged") {
            opts.privileged = match p {
                "yes" => true,
                "no" => false,
                _ => return Err(format!("privileged: `{p}`, want yes or no")),
            };
        } else if let Some(f) = header(line, "func_info") {
            opts.btf_func_info = match f {
                "yes" => true,
                "no" => false,
                _ => return Err(format!("func_info: `{f}`, want yes or no")),
            };
        } else if let Some(g) = header(line, "global_func") {
            let n = g
                .parse()
                .map_err(|_| format!("global_func: `{g}`, want a slot index"))?;
            opts.global_funcs.push(n);
        } else if let Some(t) = header(line, "timer") {
            let off = t
                .parse()
                .map_err(|_| format!("timer: `{t}`, want a byte offset"))?;
            let m = opts.maps.last_mut().ok_or("timer: before any map")?;
            m.value_fields.timer = Some(off);
        } else if let Some(e) = header(line, "expect") {
            if expect.is_some() {
                return Err("more than one `expect:` line".to_string());
            }
            expect = Some(Expect::parse(e)?);
        }
    }
    Ok(Case {
        opts,
        expect: expect.ok_or("no `# expect:` line")?,
        source,
        kernel_skip,
    })
}

fn case_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    files.sort();
    files
}

/// The file with its `expect:` line replaced.
fn blessed(source: &str, got: &Expect) -> String {
    let mut out = String::new();
    for line in source.lines() {
        if header(line, "expect").is_some() {
            out.push_str(&format!("# expect: {}\n", got.render()));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_case_file_gets_its_expected_verdict() {
    let bless = std::env::var_os("BPFX_BLESS").is_some_and(|v| v == "1");
    let files = case_files();
    assert!(files.len() >= 30, "only {} case files", files.len());
    let mut mismatches = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let case = match read_case(path) {
            Ok(c) => c,
            Err(e) => {
                mismatches.push(format!("{name}: {e}"));
                continue;
            }
        };
        let prog = match assemble(&case.source, Dialect::Llvm) {
            Ok(p) => p,
            Err(d) => {
                mismatches.push(format!("{name}: does not assemble: {d:?}"));
                continue;
            }
        };
        let got = Expect::of(&verify(&prog.insns, &case.opts));
        if got != case.expect {
            if bless {
                std::fs::write(path, blessed(&case.source, &got)).unwrap();
            }
            mismatches.push(format!(
                "{name}:\n  expected {}\n  got      {}",
                case.expect.render(),
                got.render()
            ));
        }
    }
    if bless && !mismatches.is_empty() {
        println!("blessed:\n{}", mismatches.join("\n"));
        return;
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} case files disagree (BPFX_BLESS=1 rewrites the expectations):\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
    println!("{} case files agree", files.len());
}

/// The kernel's answer for a case, as an [`Expect`]; `Err` when bpf() is unusable.
fn kernel_verdict(insns: &[asm::Insn], opts: &Options) -> Result<Expect, String> {
    let maps = opts
        .maps
        .iter()
        .map(kernel::Map::create)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut load = kernel::LoadOptions::new(opts.prog_type);
    load.maps = maps.iter().collect();
    match kernel::Program::load(insns, &load) {
        Ok(_) => Ok(Expect::Accept),
        Err(e) if e.is_unavailable() => Err(e.to_string()),
        Err(e) => {
            let log = e.verifier_log().unwrap_or("");
            let message = kernel::error::first_error_line(log)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string());
            // The instruction: the last `N: (..)` line of the log before the message.
            let insn = log
                .lines()
                .rev()
                .find_map(|l| l.split_once(": (").and_then(|(n, _)| n.trim().parse().ok()))
                .unwrap_or(0);
            Ok(Expect::Reject {
                message,
                insn,
                errno: errno_name(e.errno().map_or(0, |n| n.0)),
            })
        }
    }
}

#[test]
fn every_case_file_states_the_kernels_verdict() {
    if !test_support::kernel_available("case files against the kernel") {
        return;
    }
    let mut mismatches = Vec::new();
    let (mut compared, mut skipped) = (0, 0);
    for path in &case_files() {
        let name = path.file_name().unwrap().to_string_lossy();
        let Ok(case) = read_case(path) else { continue };
        if let Some(why) = &case.kernel_skip {
            println!("skipped: {name}: {why}");
            skipped += 1;
            continue;
        }
        if !case.opts.privileged {
            // Loading as root is privileged; dropping capabilities needs another process.
            println!("skipped: {name}: unprivileged case");
            skipped += 1;
            continue;
        }
        let Ok(prog) = assemble(&case.source, Dialect::Llvm) else {
            continue;
        };
        let mut opts = case.opts.clone();
        opts.log_level = 1;
        let theirs = match kernel_verdict(&prog.insns, &opts) {
            Ok(v) => v,
            Err(e) => {
                println!("skipped: kernel unavailable ({e})");
                return;
            }
        };
        compared += 1;
        // Verdict, message and errno; the kernel's log names the instruction only on the
        // error path, so the instruction is compared when the log gave one.
        let agrees = match (&case.expect, &theirs) {
            (Expect::Accept, Expect::Accept) => true,
            (
                Expect::Reject {
                    message: m1,
                    errno: e1,
                    ..
                },
                Expect::Reject {
                    message: m2,
                    errno: e2,
                    ..
                },
            ) => m1 == m2 && e1 == e2,
            _ => false,
        };
        if !agrees {
            mismatches.push(format!(
                "{name}:\n  file   {}\n  kernel {}",
                case.expect.render(),
                theirs.render()
            ));
        }
    }
    println!("{compared} case files compared with the kernel, {skipped} skipped");
    assert!(
        mismatches.is_empty(),
        "{} case files state another verdict than the kernel's:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn expectation_lines_round_trip() {
    for s in [
        "accept",
        "reject \"R2 !read_ok\" at 3 (EACCES)",
        "reject \"R0 invalid mem access 'scalar'\" at 1 (EACCES)",
    ] {
        assert_eq!(Expect::parse(s).unwrap().render(), s);
    }
    assert!(Expect::parse("reject R2 at 3").is_err());
    assert!(Expect::parse("reject \"x\" at three (EACCES)").is_err());
}
