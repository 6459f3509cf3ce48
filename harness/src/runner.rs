//! Running test files with one engine or two compared, into per-case reports.

use crate::check::{check, unchecked};
use crate::engine::{Engine, HostKernel, Outcome, Suite, VmEngine};
use crate::observation::{compare, Observation};
use crate::schema::Case;
use std::path::{Path, PathBuf};

/// Which engines run the cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The VM only.
    Vm,
    /// The host kernel only.
    Kernel,
    /// Both; each must meet the expectations and they must agree.
    Both,
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// It passed; a summary of what it returned.
    Passed(String),
    /// It failed; one line per problem.
    Failed(Vec<String>),
    /// It could not run here; why.
    Skipped(String),
}

/// One case's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseReport {
    /// The case's name.
    pub name: String,
    /// How it ended.
    pub status: Status,
}

/// One file's report: its cases, or why the file itself failed (unreadable, invalid, no
/// cases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The file as given.
    pub path: PathBuf,
    /// Its cases' reports, or the file's error.
    pub cases: Result<Vec<CaseReport>, String>,
}

/// Totals over reports: a file error counts as one failure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Cases passed.
    pub passed: usize,
    /// Cases (and files) failed.
    pub failed: usize,
    /// Cases skipped.
    pub skipped: usize,
}

impl Totals {
    /// Counts the reports.
    pub fn of(reports: &[FileReport]) -> Totals {
        let mut t = Totals::default();
        for r in reports {
            match &r.cases {
                Err(_) => t.failed += 1,
                Ok(cases) => {
                    for c in cases {
                        match c.status {
                            Status::Passed(_) => t.passed += 1,
                            Status::Failed(_) => t.failed += 1,
                            Status::Skipped(_) => t.skipped += 1,
                        }
                    }
                }
            }
        }
        t
    }
}

impl std::fmt::Display for Totals {
    /// `N passed, N failed, N skipped`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// The name `--filter` matches: `file::case`.
pub fn full_name(path: &Path, case: &str) -> String {
    format!("{}::{case}", path.display())
}

/// Runs one file's cases whose `file::case` name contains `filter` (all without one).
pub fn run_file(path: &Path, mode: Mode, filter: Option<&str>) -> FileReport {
    let cases = Suite::load(path).and_then(|suite| {
        if suite.file.cases.is_empty() {
            return Err("the file has no [[case]]".into());
        }
        let chosen: Vec<&Case> = suite
            .file
            .cases
            .iter()
            .filter(|c| filter.map_or(true, |f| full_name(path, &c.name).contains(f)))
            .collect();
        Ok(run_suite(&suite, &chosen, mode))
    });
    FileReport {
        path: path.to_path_buf(),
        cases,
    }
}

/// Runs cases of a loaded file.
pub fn run_suite(suite: &Suite, cases: &[&Case], mode: Mode) -> Vec<CaseReport> {
    let vm = || VmEngine.run(suite, cases);
    let kernel = || HostKernel.run(suite, cases);
    let statuses: Vec<Status> = match mode {
        Mode::Vm => cases.iter().zip(vm()).map(|(c, o)| judge(c, o)).collect(),
        Mode::Kernel => cases
            .iter()
            .zip(kernel())
            .map(|(c, o)| judge(c, o))
            .collect(),
        Mode::Both => cases
            .iter()
            .zip(
                // Per-CPU maps are compared CPU by CPU: the VM gets the kernel's CPUs.
                crate::engine::vm_engine_run_cases(
                    suite,
                    cases,
                    Some(kernel::cpu::possible() as u32),
                )
                .into_iter()
                .zip(kernel()),
            )
            .map(|(c, (v, k))| both(c, v, k))
            .collect(),
    };
    cases
        .iter()
        .zip(statuses)
        .map(|(c, status)| CaseReport {
            name: c.name.clone(),
            status,
        })
        .collect()
}

/// A summary of a passing run: its return value, instructions or time, and what the engine
/// could not check.
fn summary(case: &Case, obs: &Observation) -> String {
    if let Some(e) = &obs.error {
        return format!("error as expected: {e}");
    }
    let mut s = obs.show_ret();
    if let Some(n) = obs.insns {
        s.push_str(&format!(", {n} insns"));
    }
    if let Some(ns) = obs.ns_per_run {
        s.push_str(&format!(", {ns} ns"));
    }
    let not = unchecked(&case.expect, obs);
    if !not.is_empty() {
        s.push_str(&format!("; not checked in the kernel: {}", not.join(", ")));
    }
    s
}

/// A case's status from one engine's outcome.
pub fn judge(case: &Case, outcome: Outcome) -> Status {
    match outcome {
        Outcome::Skipped(why) => Status::Skipped(why),
        Outcome::Failed(lines) => Status::Failed(lines),
        Outcome::Observed(obs) => {
            let bad = check(&case.expect, &obs);
            if bad.is_empty() {
                Status::Passed(summary(case, &obs))
            } else {
                Status::Failed(bad.into_iter().map(|m| m.message).collect())
            }
        }
    }
}

/// `--both`: each engine must meet the expectations and their observations must agree; a
/// case the kernel skipped is skipped.
fn both(case: &Case, v: Outcome, k: Outcome) -> Status {
    let vm_obs = match &v {
        Outcome::Observed(o) => Some((**o).clone()),
        _ => None,
    };
    let k_obs = match &k {
        Outcome::Observed(o) => Some((**o).clone()),
        _ => None,
    };
    fn tag(who: &'static str, e: Vec<String>) -> impl Iterator<Item = String> {
        e.into_iter().map(move |l| format!("{who}: {l}"))
    }
    match (judge(case, v), judge(case, k)) {
        (Status::Failed(ve), Status::Failed(ke)) => {
            Status::Failed(tag("vm", ve).chain(tag("kernel", ke)).collect())
        }
        (Status::Failed(ve), _) => Status::Failed(tag("vm", ve).collect()),
        (_, Status::Failed(ke)) => Status::Failed(tag("kernel", ke).collect()),
        (Status::Passed(vs), Status::Skipped(why)) => {
            Status::Skipped(format!("vm: {vs}; kernel skipped: {why}"))
        }
        (Status::Skipped(why), _) => Status::Skipped(format!("vm skipped: {why}")),
        (Status::Passed(vs), Status::Passed(ks)) => {
            let (Some(vo), Some(ko)) = (vm_obs, k_obs) else {
                return Status::Passed(format!("vm: {vs}; kernel: {ks}"));
            };
            let rows = compare(&vo, &ko, false);
            let d: Vec<String> = rows
                .iter()
                .filter(|r| !r.agree)
                .map(|r| format!("{} differs: vm {}, kernel {}", r.what, r.vm, r.kernel))
                .collect();
            // What one side could not read back is said, never counted as agreement.
            let not: String = rows
                .iter()
                .filter(|r| !r.compared)
                .map(|r| {
                    format!(
                        "; {} {}",
                        r.what,
                        [&r.kernel, &r.vm]
                            .into_iter()
                            .find(|s| s.starts_with("not compared"))
                            .map_or("not compared", |s| s.as_str())
                    )
                })
                .collect();
            if d.is_empty() {
                Status::Passed(format!("vm: {vs}; kernel: {ks}{not}"))
            } else {
                Status::Failed(d)
            }
        }
    }
}

/// Runs every file.
pub fn run_files(files: &[PathBuf], mode: Mode, filter: Option<&str>) -> Vec<FileReport> {
    files.iter().map(|f| run_file(f, mode, filter)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_tests() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/tests")
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        test_support::files_in_dir(dir, "toml")
    }

    #[test]
    fn every_test_file_passes_in_the_vm() {
        let files = files_in(&elf_tests());
        assert!(files.len() >= 9, "{files:?}");
        let reports = run_files(&files, Mode::Vm, None);
        let t = Totals::of(&reports);
        assert_eq!((t.failed, t.skipped), (0, 0), "{reports:#?}");
        assert!(t.passed >= 43, "{t}");
    }

    #[test]
    fn failing_files_fail_with_reasons() {
        let dir = elf_tests().join("failing");
        let reports = run_files(&files_in(&dir), Mode::Vm, None);
        let t = Totals::of(&reports);
        assert_eq!((t.passed, t.failed, t.skipped), (1, 8, 0));
        let bad = &reports[0];
        assert!(bad.path.ends_with("bad_file.toml"));
        assert!(bad
            .cases
            .as_ref()
            .unwrap_err()
            .starts_with("3:1: unknown field `programme`"));
        let wrong = reports.last().unwrap().cases.as_ref().unwrap();
        assert_eq!(
            wrong[1].status,
            Status::Failed(vec![
                "ret: expected XDP_DROP, got 2 (XDP_PASS)".into(),
                "map counts: key 6: expected 1, got no entry; key 17: expected no entry, got 1"
                    .into()
            ])
        );
    }

    #[test]
    fn filter_matches_file_and_case_names() {
        let f = elf_tests().join("xdp_count.toml");
        let all = run_file(&f, Mode::Vm, None).cases.unwrap();
        assert!(all.len() > 1);
        let one = run_file(&f, Mode::Vm, Some(&format!("::{}", all[0].name)))
            .cases
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].name, all[0].name);
        let none = run_file(&f, Mode::Vm, Some("no such case")).cases.unwrap();
        assert!(none.is_empty());
        let by_file = run_file(&f, Mode::Vm, Some("xdp_count.toml::"))
            .cases
            .unwrap();
        assert_eq!(by_file.len(), all.len());
    }

    #[test]
    fn totals_read_as_the_summary_line() {
        let t = Totals {
            passed: 3,
            failed: 1,
            skipped: 2,
        };
        assert_eq!(t.to_string(), "3 passed, 1 failed, 2 skipped");
    }
}
