//! `bpfx test`: declarative test files (TOML) run in the VM, in the kernel (`--kernel`), or
//! in both, compared (`--both`). The engine is the `harness` crate; this file parses the
//! arguments and renders the reports: one line per case and the summary line
//! `N passed, N failed, N skipped` (human), a JSON document, or JUnit XML.
//!
//! The format is described in `docs/unit-testing.md`.

use crate::exit::EXIT_UNAVAILABLE;
use anyhow::Result;
use harness::{Engine, FileReport, Mode, Status, Totals};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run declarative test files (TOML) against BPF programs in the VM (or the kernel).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Each file names a program: a clang-built ELF object (`object = \"prog.bpf.o\"`, and
`program = \"NAME\"`, a function or section name; default: the first program), or an
assembly file (`asm = \"prog.s\"`, `type = \"xdp\"`, maps as `[[map]]` tables with name,
type, key_size, value_size, max_entries). Then the maps' initial contents, and cases: input
packet or context, and the expected return value, maps, globals, output packet, trace
lines and ring buffer records. The format: docs/unit-testing.md.

Output ends with `N passed, N failed, N skipped` (with --format json or junit the document
goes to stdout and that line to stderr).

Examples:
  bpfx test testdata/elf/tests/xdp_count.toml        in the VM, no root needed
  bpfx test testdata/elf/tests/*.toml
  bpfx test --kernel testdata/elf/tests/xdp_count.toml   in the kernel (BPF_PROG_TEST_RUN)
  bpfx test --both testdata/elf/tests/*.toml         both, and any difference fails
  bpfx test --filter xdp_count.toml::ipv6 testdata/elf/tests/*.toml
  bpfx test --both --format junit testdata/elf/tests/*.toml > junit.xml

A minimal file:
  object = \"xdp_count.bpf.o\"
  program = \"count_proto\"
  [[case]]
  name = \"drops a runt frame\"
  packet = \"ffffffffffff0200\"
  expect.ret = \"XDP_DROP\"")]
pub struct Args {
    /// Test files (TOML), each naming an ELF object or an assembly file and its cases.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run the cases in the kernel instead (load, create and fill maps, BPF_PROG_TEST_RUN,
    /// read maps back); cases the kernel cannot run print `skipped: <reason>`.
    #[arg(long, conflicts_with = "both")]
    pub kernel: bool,
    /// Run every case in the VM and in the kernel; a difference between them is a failure,
    /// a case the kernel cannot run is skipped.
    #[arg(long)]
    pub both: bool,
    /// Run only the cases whose `FILE::CASE` name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per case, then the summary line.
    Human,
    /// One JSON document.
    Json,
    /// JUnit XML, one test suite per file.
    Junit,
}

pub fn main(args: Args) -> Result<ExitCode> {
    let mode = match (args.kernel, args.both) {
        (true, _) => Mode::Kernel,
        (_, true) => Mode::Both,
        _ => Mode::Vm,
    };
    if mode != Mode::Vm {
        if let Err(why) = harness::HostKernel.available() {
            eprintln!("kernel unavailable: {why}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
    }
    let reports = harness::run_files(&args.files, mode, args.filter.as_deref());
    let totals = Totals::of(&reports);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            human(&reports, &mut out)?;
            writeln!(out, "{totals}")?;
        }
        Format::Json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&to_json(&reports, totals))?
            )?;
            eprintln!("{totals}");
        }
        Format::Junit => {
            writeln!(out, "{}", junit(&reports)?)?;
            eprintln!("{totals}");
        }
    }
    Ok(
        if totals.failed == 0 && totals.passed + totals.skipped > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// One line per case (`ok`, `skip`, `FAIL` and the reasons indented).
fn human(reports: &[FileReport], out: &mut dyn Write) -> std::io::Result<()> {
    for r in reports {
        let shown = r.path.display();
        match &r.cases {
            Err(e) => writeln!(out, "FAIL {shown}: {e}")?,
            Ok(cases) => {
                for c in cases {
                    match &c.status {
                        Status::Passed(s) => writeln!(out, "ok   {shown}: {} ({s})", c.name)?,
                        Status::Skipped(why) => {
                            writeln!(out, "skip {shown}: {} (skipped: {why})", c.name)?
                        }
                        Status::Failed(lines) => {
                            writeln!(out, "FAIL {shown}: {}", c.name)?;
                            for l in lines {
                                writeln!(out, "       {l}")?;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn to_json(reports: &[FileReport], totals: Totals) -> serde_json::Value {
    let mut cases = Vec::new();
    for r in reports {
        let file = r.path.display().to_string();
        match &r.cases {
            Err(e) => {
                cases.push(json!({"file": file, "case": null, "status": "failed", "errors": [e]}))
            }
            Ok(list) => {
                for c in list {
                    cases.push(match &c.status {
                        Status::Passed(s) => {
                            json!({"file": file, "case": c.name, "status": "passed", "summary": s})
                        }
                        Status::Skipped(why) => {
                            json!({"file": file, "case": c.name, "status": "skipped", "reason": why})
                        }
                        Status::Failed(lines) => {
                            json!({"file": file, "case": c.name, "status": "failed", "errors": lines})
                        }
                    });
                }
            }
        }
    }
    json!({
        "cases": cases,
        "passed": totals.passed,
        "failed": totals.failed,
        "skipped": totals.skipped,
    })
}

fn junit(reports: &[FileReport]) -> Result<String> {
    let mut report = Report::new("bpfx test");
    for r in reports {
        let file = r.path.display().to_string();
        let mut suite = TestSuite::new(file.clone());
        match &r.cases {
            Err(e) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(e.clone());
                suite.add_test_case(TestCase::new(file.clone(), status));
            }
            Ok(cases) => {
                for c in cases {
                    let status = match &c.status {
                        Status::Passed(_) => TestCaseStatus::success(),
                        Status::Skipped(why) => {
                            let mut s = TestCaseStatus::skipped();
                            s.set_message(why.clone());
                            s
                        }
                        Status::Failed(lines) => {
                            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                            s.set_message(lines.first().cloned().unwrap_or_default());
                            s.set_description(lines.join("\n"));
                            s
                        }
                    };
                    let mut tc = TestCase::new(c.name.clone(), status);
                    tc.set_classname(file.clone());
                    if let Status::Passed(s) = &c.status {
                        tc.set_system_out(s.clone());
                    }
                    suite.add_test_case(tc);
                }
            }
        }
        report.add_test_suite(suite);
    }
    Ok(report.to_string()?)
}
