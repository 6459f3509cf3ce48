//! `bpfx conformance`: run bpf_conformance / uBPF `.data` tests in-process.

use anyhow::{Context, Result};
use asm::text::{self, data_file, Dialect};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run `.data` conformance tests (bpf_conformance format) in the VM.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `.data` files, or directories holding them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print a line for every test, not only failures.
    #[arg(short, long)]
    pub verbose: bool,
    /// Run the tests in the running kernel (BPF_PROG_TEST_RUN) instead of the VM; programs
    /// the kernel refuses on purpose are listed as expected rejections. Exit 77 when the
    /// kernel cannot be used here.
    #[arg(long)]
    pub kernel: bool,
    /// Helper functions for the VM: the kernel's (default) or the ones uBPF's test suite
    /// registers (ids 0-5: gather_bytes, memfrob, trash_registers, sqrti, strcmp_ext, unwind).
    #[arg(long, value_enum, default_value_t = Helpers::Kernel, conflicts_with = "kernel")]
    pub helpers: Helpers,
}

/// Helper sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Helpers {
    /// Linux's helpers by id.
    Kernel,
    /// uBPF's test helpers for ids 0-5, the kernel's for the others.
    Ubpf,
}

fn run_program(prog: &[u8], mem: &[u8], helpers: Helpers) -> Result<u64, vm::RunError> {
    let mut m = vm::Vm::new();
    if helpers == Helpers::Ubpf {
        vm::register_ubpf_test_helpers(&mut m);
    }
    let id = m.load(prog, None)?;
    m.set_mem(mem.to_vec());
    Ok(m.run(id)?.r0)
}

/// What happened to one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// As expected.
    Pass,
    /// Not as expected, with why.
    Fail(String),
    /// Uses sections this runner does not interpret (uBPF-only), or has no expectation.
    Skip(String),
    /// The kernel refuses the program for a documented reason (`--kernel` only).
    ExpectedRejection(String),
}

/// Sections that only inform (C source, notes for other runners): ignored.
const INFORMATIONAL: &[&str] = &["c", "no register offset", "description", "no jit"];

/// Runs one `.data` text; `dir` is its directory, for uBPF's `-- asm @ FILE` and
/// `-- mem @ FILE` sections.
/// `in_kernel`: in the running kernel instead of the VM; `helpers`: the VM's helper set.
pub fn run_one(text: &str, dir: Option<&Path>, in_kernel: bool, helpers: Helpers) -> Verdict {
    let mut f = match data_file::parse(text) {
        Ok(f) => f,
        Err(e) => return Verdict::Fail(format!("bad .data file: {e}")),
    };
    let mut expect_error = f.error.is_some();
    for s in &f.other_sections {
        if INFORMATIONAL.contains(&s.as_str()) {
            continue;
        }
        if s == "error pattern" {
            expect_error = true;
            continue;
        }
        let at = |prefix: &str| s.strip_prefix(prefix).map(|rest| rest.trim().to_string());
        let (asm_file, mem_file) = (at("asm @"), at("mem @"));
        let Some(name) = asm_file.clone().or(mem_file.clone()) else {
            return Verdict::Skip(format!("uses section `-- {s}`"));
        };
        let path = dir
            .map(|d| d.join(&name))
            .unwrap_or_else(|| PathBuf::from(&name));
        let Ok(content) = std::fs::read_to_string(&path) else {
            return Verdict::Fail(format!("cannot read {}", path.display()));
        };
        if asm_file.is_some() {
            f.asm = Some(content);
        } else {
            // uBPF keeps packets as tcpdump -x output: drop the `0x0000:` offsets.
            let content: String = content
                .lines()
                .map(|l| l.split_once(':').map_or(l, |(_, rest)| rest))
                .collect::<Vec<_>>()
                .join("\n");
            match crate::input::parse_hex(&content) {
                Ok(m) => f.mem = m,
                Err(e) => return Verdict::Fail(format!("{}: {e}", path.display())),
            }
        }
    }
    if expect_error && f.error.is_none() {
        f.error = Some("(error pattern)".into());
    }
    if f.result.is_none() && f.error.is_none() {
        return Verdict::Skip("no `-- result` or `-- error` section".into());
    }
    let prog = match (&f.raw, &f.asm) {
        (Some(raw), _) => raw.clone(),
        (None, Some(src)) => match text::assemble(src, Dialect::Ubpf) {
            Ok(a) => a.bytes(),
            Err(d) => {
                let first = d.first().map(|d| d.message.clone()).unwrap_or_default();
                return match &f.error {
                    Some(_) => Verdict::Pass,
                    None => Verdict::Fail(format!("does not assemble: {first}")),
                };
            }
        },
        (None, None) => return Verdict::Skip("no program".into()),
    };
    if in_kernel {
        return kernel_verdict(&prog, &f.mem, f.result, f.error.is_some());
    }
    let got = run_program(&prog, &f.mem, helpers);
    match (f.result, &f.error, got) {
        (_, Some(_), Err(_)) => Verdict::Pass,
        (Some(want), _, Ok(r0)) if r0 == want => Verdict::Pass,
        (Some(want), _, Ok(r0)) => Verdict::Fail(format!("r0 is {r0:#x}, expected {want:#x}")),
        (None, Some(e), Ok(r0)) => {
            Verdict::Fail(format!("r0 is {r0:#x}, expected the error `{e}`"))
        }
        (_, _, Err(e)) => Verdict::Fail(format!("error: {e}")),
        (None, None, Ok(_)) => Verdict::Skip("no expectation".into()),
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read directory {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "data") {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Entry point.
pub fn main(args: Args) -> Result<ExitCode> {
    if args.kernel {
        if let Err(why) = ::kernel::probe::availability() {
            eprintln!("kernel unavailable: {why}");
            return Ok(ExitCode::from(crate::exit::EXIT_UNAVAILABLE));
        }
    }
    let mut rejected = 0;
    let mut files = Vec::new();
    for p in &args.paths {
        if !p.exists() {
            anyhow::bail!("{} does not exist", p.display());
        }
        collect(p, &mut files)?;
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        match run_one(&text, file.parent(), args.kernel, args.helpers) {
            Verdict::ExpectedRejection(why) => {
                rejected += 1;
                println!("expected rejection {}: {why}", file.display());
            }
            Verdict::Pass => {
                passed += 1;
                if args.verbose {
                    println!("PASS {}", file.display());
                }
            }
            Verdict::Fail(why) => {
                failed += 1;
                println!("FAIL {}: {why}", file.display());
            }
            Verdict::Skip(why) => {
                skipped += 1;
                if args.verbose {
                    println!("SKIP {}: {why}", file.display());
                }
            }
        }
    }
    if skipped > 0 {
        println!("{skipped} skipped (non-standard sections or no expectation)");
    }
    if args.kernel {
        println!("kernel: {passed} passed, {failed} failed, {rejected} expected rejections");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The verdict of one `.data` test in the kernel (for `bpfx conformance --kernel`):
/// `expect_error` tests pass when the kernel refuses the program.
fn kernel_verdict(prog: &[u8], mem: &[u8], result: Option<u64>, expect_error: bool) -> Verdict {
    let insns: Vec<asm::Insn> = match asm::decode(prog) {
        Ok(d) => d.into_iter().map(|d| d.insn).collect(),
        Err(_) if expect_error => return Verdict::Pass,
        Err(e) => return Verdict::Fail(format!("undecodable: {e}")),
    };
    match (result, expect_error) {
        (_, true) => match ::kernel::run::run(
            &insns,
            &::kernel::run::RunInput {
                mem,
                ..Default::default()
            },
        ) {
            Err(_) => Verdict::Pass,
            Ok(out) => Verdict::Fail(format!("r0 is {:#x}, expected an error", out.r0)),
        },
        (Some(want), false) => match ::kernel::conformance::run_case(&insns, mem, want) {
            ::kernel::conformance::Outcome::Pass => Verdict::Pass,
            ::kernel::conformance::Outcome::Mismatch { expected, got } => {
                Verdict::Fail(format!("r0 is {got:#x}, expected {expected:#x}"))
            }
            ::kernel::conformance::Outcome::ExpectedRejection { message, why } => {
                Verdict::ExpectedRejection(format!("{message} ({why})"))
            }
            ::kernel::conformance::Outcome::Error(e) => Verdict::Fail(e.to_string()),
        },
        (None, false) => Verdict::Skip("no expectation".into()),
    }
}
