//! `bpfx seccomp`: what a seccomp filter (or a stack of them) does with each system call,
//! without root, and the same question asked of the kernel.
//!
//! - `run FILTER... --arch A (--syscall NAME | --nr N) [--args ..] [--ip ADDR] [--json]`:
//!   the action on the first line (`ALLOW`, `ERRNO(1)`, `KILL_PROCESS`, ...).
//! - `table FILTER... --arch A`: every system call of the architecture and its action;
//!   `*` marks actions that depend on the arguments (the path read an argument or the
//!   instruction pointer).
//! - `asm` / `disasm` / `check`: the seccomp views of `bpfx cbpf`.
//! - `cross-check FILTER... (--syscall NAME | --nr N | --all) [--args ..]`: emulator and
//!   kernel side by side (see `kernel::seccomp` for how it stays safe without root).
//!
//! FILTERs are given oldest first (installation order), like repeated seccomp(2) calls.

use crate::classic::{
    asm_format, load_filter, parse_arch, require_seccomp, to_terminal, write_out, CDialect,
    OutFormat,
};
use anyhow::{bail, Context};
use asm::cbpf::check::{check, Mode};
use asm::cbpf::seccomp::{Action, Arch};
use asm::cbpf::SockFilter;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use vm::classic::{run_seccomp, run_seccomp_stack, SeccompData};

/// `bpfx seccomp`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Debug)]
struct Call {
    /// System call name (resolved for --arch).
    #[arg(long, conflicts_with = "nr")]
    syscall: Option<String>,
    /// System call number.
    #[arg(long)]
    nr: Option<u32>,
    /// Up to six arguments, comma separated (decimal, 0x hex, or negative).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Emulate the filters for one system call.
    Run {
        /// Filters, oldest first.
        #[arg(required = true)]
        filters: Vec<PathBuf>,
        /// Architecture of the call.
        #[arg(long, value_parser = parse_arch, default_value = "x86_64")]
        arch: Arch,
        #[command(flatten)]
        call: Call,
        /// seccomp_data.instruction_pointer.
        #[arg(long, value_parser = parse_u64, default_value = "0")]
        ip: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The action of every system call of an architecture.
    Table {
        /// Filters, oldest first.
        #[arg(required = true)]
        filters: Vec<PathBuf>,
        /// Architecture.
        #[arg(long, value_parser = parse_arch, default_value = "x86_64")]
        arch: Arch,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Assemble the seccomp (or bpf_asm) dialect.
    Asm {
        /// Input (`-` for stdin).
        input: PathBuf,
        /// Output format (default: raw, or c when writing to a terminal).
        #[arg(long, short = 'f', value_enum)]
        format: Option<OutFormat>,
        /// Output file.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Disassemble a filter to the readable seccomp form.
    Disasm {
        /// Input.
        input: PathBuf,
        /// Architecture for syscall names until the filter checks it.
        #[arg(long, value_parser = parse_arch, default_value = "x86_64")]
        arch: Arch,
    },
    /// Check a filter with the kernel's seccomp load-time rules.
    Check {
        /// Input.
        input: PathBuf,
    },
    /// Compare the emulator with the kernel.
    CrossCheck {
        /// Filters, oldest first.
        #[arg(required = true)]
        filters: Vec<PathBuf>,
        #[command(flatten)]
        call: Call,
        /// Every system call number of the architecture (x86_64 also probes the x32
        /// numbers; unassigned numbers up to 470 are included).
        #[arg(long, conflicts_with_all = ["syscall", "nr"])]
        all: bool,
        /// The calling convention: x86_64 (`syscall`), i386 (`int $0x80`, compat), or x32
        /// (x86_64 entry with the x32 numbers).
        #[arg(long, value_parser = parse_arch, default_value = "x86_64")]
        arch: Arch,
    },
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => body.parse(),
    }
    .map_err(|_| format!("`{s}` is not a number"))?;
    if neg {
        if v > 1 << 63 {
            return Err(format!("`{s}` does not fit in 64 bits"));
        }
        Ok(v.wrapping_neg())
    } else {
        Ok(v)
    }
}

fn call_args(call: &Call) -> anyhow::Result<[u64; 6]> {
    if call.args.len() > 6 {
        bail!("at most 6 arguments (got {})", call.args.len());
    }
    let mut a = [0u64; 6];
    for (i, s) in call.args.iter().enumerate() {
        a[i] = parse_u64(s).map_err(|e| anyhow::anyhow!("argument {i}: {e}"))?;
    }
    Ok(a)
}

fn call_nr(call: &Call, arch: Arch) -> anyhow::Result<u32> {
    match (&call.syscall, call.nr) {
        (Some(name), _) => arch
            .syscall_nr(name)
            .with_context(|| format!("`{name}` is no {arch} system call")),
        (None, Some(nr)) => Ok(nr),
        (None, None) => bail!("give --syscall NAME or --nr N"),
    }
}

fn load_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Vec<SockFilter>>> {
    let mut out = Vec::new();
    for p in paths {
        let prog = load_filter(p, None)?;
        require_seccomp(p, &prog)?;
        out.push(prog);
    }
    let lens: Vec<usize> = out.iter().map(Vec::len).collect();
    asm::cbpf::check::check_stack(&lens)
        .map_err(|e| anyhow::anyhow!("the kernel would refuse this stack (ENOMEM): {e}"))?;
    Ok(out)
}

/// What the calling thread sees for an action, when that is not obvious from its name.
fn consequence(action: Action) -> Option<String> {
    match action {
        Action::Errno(d) if d as u32 > kernel::seccomp::MAX_ERRNO => Some(format!(
            "the call fails with errno {} (the kernel caps ERRNO data at MAX_ERRNO)",
            kernel::seccomp::MAX_ERRNO
        )),
        Action::Trace(_) => Some("without a ptrace tracer the call fails with ENOSYS".into()),
        Action::UserNotif => {
            Some("without a listener on the notification fd the call fails with ENOSYS".into())
        }
        Action::Unknown(_) => Some("an unknown action kills the process".into()),
        Action::KillThread => {
            Some("SIGSYS kills the thread (the process, if it is the last thread)".into())
        }
        _ => None,
    }
}

fn stack(
    filters: &[Vec<SockFilter>],
    data: &SeccompData,
) -> anyhow::Result<vm::classic::StackOutcome> {
    run_seccomp_stack(filters, data).map_err(|(i, e)| anyhow::anyhow!("filter {i}: {e}"))
}

macro_rules! outln {
    ($o:ident, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o, $($t)*);
    }};
}

/// Runs `bpfx seccomp`; diagnostics are colored per `color`.
pub fn main(args: Args, color: crate::render::Color) -> anyhow::Result<ExitCode> {
    crate::classic::set_color(color);
    crate::classic::exit_code(execute(args).and_then(|(out, code)| {
        crate::classic::emit(out.as_bytes())?;
        Ok(code)
    }))
}

/// Runs `bpfx seccomp` and returns its standard output (raw assembler output, which may
/// be binary, is written directly) and exit code.
pub fn execute(args: Args) -> anyhow::Result<(String, ExitCode)> {
    let mut out = String::new();
    match args.cmd {
        Cmd::Run {
            filters,
            arch,
            call,
            ip,
            json,
        } => {
            let progs = load_all(&filters)?;
            let nr = call_nr(&call, arch)?;
            let data = SeccompData {
                nr,
                arch: arch.audit(),
                instruction_pointer: ip,
                args: call_args(&call)?,
            };
            let o = stack(&progs, &data)?;
            let action = Action::from_ret(o.ret);
            if json {
                let v = serde_json::json!({
                    "action": action.to_string(),
                    "ret": o.ret,
                    "filter": o.filter,
                    "filter_path": filters.get(o.filter).map(|p| p.display().to_string()),
                    "reads_args": o.read_args,
                    "exempt": o.exempt,
                    "syscall": arch.syscall_name(nr),
                    "nr": nr,
                    "arch": arch.name(),
                });
                outln!(out, "{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!(out, "{action}");
                let name = arch.syscall_name(nr).unwrap_or("?");
                if o.exempt {
                    outln!(
                        out,
                        "{name} ({nr}): the kernel runs no filter for this call"
                    );
                } else {
                    outln!(
                        out,
                        "{name} ({nr}) on {arch}: return value {:#010x} from filter {} ({})",
                        o.ret,
                        o.filter,
                        filters[o.filter].display()
                    );
                    if let Some(c) = consequence(action) {
                        outln!(out, "{c}");
                    }
                    if o.read_args {
                        outln!(out, "the path read arguments or the instruction pointer: other values may get another action");
                    }
                }
            }
        }
        Cmd::Table {
            filters,
            arch,
            json,
        } => {
            let progs = load_all(&filters)?;
            let mut rows = Vec::new();
            for &(name, nr) in arch.syscalls() {
                let data = SeccompData {
                    nr,
                    arch: arch.audit(),
                    ..Default::default()
                };
                let o = stack(&progs, &data)?;
                let possible = if o.read_args {
                    vm::classic::possible_stack(&progs, nr, arch.audit())
                        .map_err(|(i, e)| anyhow::anyhow!("filter {i}: {e}"))?
                        .map(|set| {
                            // Strongest action first, as the kernel ranks them.
                            let mut v: Vec<u32> = set.into_iter().collect();
                            v.sort_by_key(|&r| ((r & 0xffff_0000) as i32, r & 0xffff));
                            v.into_iter()
                                .map(|r| Action::from_ret(r).to_string())
                                .collect::<Vec<_>>()
                        })
                } else {
                    None
                };
                rows.push((
                    name,
                    nr,
                    Action::from_ret(o.ret),
                    o.read_args,
                    o.exempt,
                    possible,
                ));
            }
            if json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|(n, nr, a, d, e, p)| {
                        serde_json::json!({"syscall": n, "nr": nr, "action": a.to_string(), "depends_on_args": d, "possible": p, "exempt": e})
                    })
                    .collect();
                outln!(out, "{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!(
                    out,
                    "# {arch}: action with all arguments 0; * = depends on arguments (then: every action some arguments get)"
                );
                for (name, nr, a, dep, exempt, possible) in rows {
                    let mark = if dep {
                        match possible {
                            Some(p) => format!(" * {}", p.join(" | ")),
                            None => " * (too many paths to list)".to_string(),
                        }
                    } else if exempt {
                        " (not filtered)".to_string()
                    } else {
                        String::new()
                    };
                    outln!(out, "{nr:>10} {name:<24} {a}{mark}");
                }
            }
        }
        Cmd::Asm {
            input,
            format,
            output,
        } => {
            let format = asm_format(format, to_terminal(output.as_deref()))?;
            let prog = load_filter(&input, Some(CDialect::Seccomp))?;
            write_out(&prog, format, Arch::X86_64, output.as_deref())?;
        }
        Cmd::Disasm { input, arch } => {
            let prog = load_filter(&input, None)?;
            write_out(&prog, OutFormat::Seccomp, arch, None)?;
        }
        Cmd::Check { input } => {
            let prog = load_filter(&input, None)?;
            match check(&prog, Mode::Seccomp) {
                Ok(()) => outln!(out, "ok: {} instructions", prog.len()),
                Err(e) => {
                    outln!(out, "rejected: {e}");
                    return Ok((out, ExitCode::FAILURE));
                }
            }
        }
        Cmd::CrossCheck {
            filters,
            call,
            all,
            arch,
        } => {
            let code = cross_check(&mut out, &filters, &call, all, arch)?;
            return Ok((out, code));
        }
    }
    Ok((out, ExitCode::SUCCESS))
}

#[cfg(target_arch = "x86_64")]
fn cross_check(
    out: &mut String,
    paths: &[PathBuf],
    call: &Call,
    all: bool,
    arch: Arch,
) -> anyhow::Result<ExitCode> {
    use kernel::seccomp as ks;
    if let Err(why) = ks::available() {
        outln!(out, "skipped: seccomp is unusable here: {why}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut progs = Vec::new();
    for p in paths {
        let prog = load_filter(p, None)?;
        let ours = check(&prog, Mode::Seccomp);
        let theirs = ks::check(&prog).context("probing the kernel")?;
        match (&ours, &theirs) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(errno)) => {
                outln!(
                    out,
                    "{}: refused by both (checker: {e}; kernel errno {errno})",
                    p.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            _ => {
                outln!(
                    out,
                    "{}: DIFFER on loading: checker {:?}, kernel {:?}",
                    p.display(),
                    ours.err().map(|e| e.to_string()),
                    theirs
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        progs.push(prog);
    }
    let abi = match arch {
        Arch::X86_64 | Arch::X32 => ks::Abi::X86_64,
        Arch::I386 => ks::Abi::I386,
        other => bail!("this host can only make x86_64, x32 and i386 system calls, not {other}"),
    };
    let nrs: Vec<u32> = match (all, arch) {
        (true, Arch::X86_64) => (0..=470)
            .chain(Arch::X32.syscalls().iter().map(|s| s.1))
            .collect(),
        (true, Arch::X32) => Arch::X32.syscalls().iter().map(|s| s.1).collect(),
        (true, _) => (0..=470).collect(),
        (false, _) => vec![call_nr(call, arch)?],
    };
    let args = abi.args(call_args(call)?);
    let ip = ks::test_site_ip_abi(abi);
    let (mut agree, mut differ, mut skipped) = (0, 0, 0);
    for nr in nrs {
        let data = SeccompData {
            nr,
            arch: arch.audit(),
            instruction_pointer: ip,
            args,
        };
        if vm::classic::exempt(&data) {
            skipped += 1;
            continue;
        }
        let mut rets = Vec::new();
        for p in progs.iter().rev() {
            rets.push(run_seccomp(p, &data)?.ret);
        }
        let want = ks::expected(&rets);
        let got = ks::run_abi(&progs, abi, nr, args).context("probing the kernel")?;
        let name = arch
            .syscall_name(nr)
            .or_else(|| Arch::X32.syscall_name(nr))
            .unwrap_or("?");
        if want == got {
            agree += 1;
            if !all {
                outln!(out, "agree: {name} ({nr}): {got}");
            }
        } else {
            differ += 1;
            outln!(
                out,
                "DIFFER: {name} ({nr}) args {args:#x?}: emulator {want}, kernel {got}"
            );
        }
    }
    outln!(
        out,
        "{agree} agree, {differ} differ, {skipped} not probed (uretprobe/uprobe bypass seccomp)"
    );
    Ok(if differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn cross_check(
    out: &mut String,
    _: &[PathBuf],
    _: &Call,
    _: bool,
    _: Arch,
) -> anyhow::Result<ExitCode> {
    outln!(
        out,
        "skipped: kernel cross-checks are implemented for x86-64 hosts only"
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct T {
        #[command(flatten)]
        args: Args,
    }

    fn corpus(name: &str) -> Option<String> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/seccomp")
            .join(name);
        if p.exists() {
            Some(p.display().to_string())
        } else {
            println!("skipped: {} not found", p.display());
            None
        }
    }

    fn example(name: &str) -> String {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/seccomp")
            .join(name)
            .display()
            .to_string()
    }

    fn run(argv: &[&str]) -> (String, ExitCode) {
        let t = T::try_parse_from(std::iter::once("seccomp").chain(argv.iter().copied())).unwrap();
        execute(t.args).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("0x10"), Ok(16));
        assert_eq!(parse_u64("-1"), Ok(u64::MAX));
        assert!(parse_u64("zz").is_err());
    }

    #[test]
    fn run_prints_the_action_first() {
        let ex = example("denylist-args.seccomp");
        let (out, code) = run(&["run", &ex, "--syscall", "mprotect", "--args", "0,4096,5"]);
        assert_eq!(out.lines().next(), Some("ERRNO(1)"));
        assert!(out.contains("other values may get another action"));
        assert_eq!(code, ExitCode::SUCCESS);
        let (out, _) = run(&["run", &ex, "--nr", "101", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["action"], "ERRNO(1)");
        assert_eq!(v["syscall"], "ptrace");
        let (out, _) = run(&["run", &ex, "--syscall", "unshare"]);
        assert_eq!(out.lines().next(), Some("TRAP(1)"));
    }

    #[test]
    fn stacked_filters_on_the_command_line() {
        let (a, b) = (
            example("denylist-args.seccomp"),
            example("server-allowlist.seccomp"),
        );
        // ptrace: ERRNO(1) from the deny-list, KILL_PROCESS from the allowlist: kill wins.
        let (out, _) = run(&["run", &a, &b, "--syscall", "ptrace"]);
        assert_eq!(out.lines().next(), Some("KILL_PROCESS"));
        assert!(out.contains("from filter 1"));
    }

    #[test]
    fn table_marks_argument_dependent_calls() {
        let ex = example("server-allowlist.seccomp");
        let (out, _) = run(&["table", &ex]);
        let line = |name: &str| {
            out.lines()
                .find(|l| l.split_whitespace().nth(1) == Some(name))
                .unwrap()
                .to_string()
        };
        assert!(line("read").ends_with("ALLOW"));
        assert!(
            line("mmap").ends_with("ALLOW * ERRNO(1) | ALLOW"),
            "{}",
            line("mmap")
        );
        assert!(
            line("socket").ends_with("ERRNO(97) * ERRNO(97) | ALLOW"),
            "{}",
            line("socket")
        );
        assert!(line("openat").ends_with("KILL_PROCESS"));
        assert!(line("uretprobe").ends_with("(not filtered)"));
    }

    #[test]
    fn check_reports_rejections() {
        let Some(bad) = corpus("thirdparty/seccomp-tools/all_inst.bpf") else {
            return;
        };
        let (out, code) = run(&["check", &bad]);
        assert!(out.starts_with("rejected: instruction "), "{out}");
        assert_eq!(code, ExitCode::FAILURE);
    }

    #[test]
    fn cross_check_one_call() {
        if kernel::seccomp::available().is_err() {
            println!("skipped: seccomp unusable");
            return;
        }
        let ex = example("denylist-args.seccomp");
        let (out, code) = run(&[
            "cross-check",
            &ex,
            "--syscall",
            "openat",
            "--args",
            "0,0,0x41",
        ]);
        assert!(out.starts_with("agree: openat (257): errno 13"), "{out}");
        assert_eq!(code, ExitCode::SUCCESS);
        // The multi-arch example through the i386 entry: write is 4 there.
        let ex = example("multiarch.seccomp");
        let (out, code) = run(&[
            "cross-check",
            &ex,
            "--arch",
            "i386",
            "--syscall",
            "socketcall",
        ]);
        assert!(out.starts_with("agree: socketcall (102): errno 1"), "{out}");
        assert_eq!(code, ExitCode::SUCCESS);
    }
}
