//! `bpfx cbpf`: classic BPF programs — assemble, disassemble, convert, check, run a socket
//! filter over a packet, and cross-check it with the kernel (SO_ATTACH_FILTER). Reading and
//! writing filters is [`crate::classic`]'s.

use crate::classic::*;
use anyhow::Context;
use asm::cbpf::check::{check, Mode};
use asm::cbpf::seccomp::{Action, Arch};
use clap::{Subcommand, ValueEnum};
use kernel::socket_filter::Delivery;
use std::path::PathBuf;
use std::process::ExitCode;

/// `bpfx cbpf`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Assemble bpf_asm or seccomp text (or convert any form) to an output format.
    Asm {
        /// Input file (`-` for stdin).
        input: PathBuf,
        /// Input dialect (guessed when omitted).
        #[arg(long)]
        dialect: Option<CDialect>,
        /// Output format (default: raw, or c when writing to a terminal).
        #[arg(long, short = 'f', value_enum)]
        format: Option<OutFormat>,
        /// Output file (stdout by default).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Byte order of raw input and output.
        #[arg(long, value_enum, default_value = "native")]
        endian: EndianArg,
    },
    /// Disassemble a program (raw, C array or `N,...`) to text.
    Disasm {
        /// Input file.
        input: PathBuf,
        /// Output dialect.
        #[arg(long, value_enum, default_value = "bpf_asm")]
        dialect: CDialect,
        /// Architecture for syscall names (seccomp dialect), until the filter checks it.
        #[arg(long, value_parser = parse_arch, default_value = "x86_64")]
        arch: Arch,
        /// Byte order of a raw input file.
        #[arg(long, value_enum, default_value = "native")]
        endian: EndianArg,
    },
    /// Check a program with the kernel's load-time rules.
    Check {
        /// Input file.
        input: PathBuf,
        /// Socket filter or seccomp rules.
        #[arg(long, value_enum, default_value = "socket")]
        mode: CheckMode,
    },
    /// Run a socket filter over a packet (the file's bytes): what arrives, e.g.
    /// `accept 64 bytes (r = 0x40)` or `drop (r = 0x0)`.
    Run {
        /// The filter.
        filter: PathBuf,
        /// The packet.
        #[arg(long)]
        packet: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run a socket filter in the emulator and in the kernel (SO_ATTACH_FILTER on an
    /// AF_UNIX socket pair) and compare: one line each, then `agree` or `DIFFER`.
    CrossCheck {
        /// The filter.
        filter: PathBuf,
        /// The packet (AF_UNIX filters see the payload only).
        #[arg(long)]
        packet: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Which load-time rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckMode {
    /// SO_ATTACH_FILTER.
    Socket,
    /// seccomp(SECCOMP_SET_MODE_FILTER).
    Seccomp,
}

/// Runs `bpfx cbpf`; diagnostics are colored per `color`.
pub fn main(args: Args, color: crate::render::Color) -> anyhow::Result<ExitCode> {
    set_color(color);
    exit_code(run(args))
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        Cmd::Asm {
            input,
            dialect,
            format,
            output,
            endian,
        } => {
            let format = asm_format(format, to_terminal(output.as_deref()))?;
            let prog = load_filter_endian(&input, dialect, endian.into())?;
            write_out_endian(
                &prog,
                format,
                Arch::X86_64,
                output.as_deref(),
                endian.into(),
            )?;
        }
        Cmd::Disasm {
            input,
            dialect,
            arch,
            endian,
        } => {
            let prog = load_filter_endian(&input, None, endian.into())?;
            let f = match dialect {
                CDialect::BpfAsm => OutFormat::BpfAsm,
                CDialect::Seccomp => OutFormat::Seccomp,
            };
            write_out(&prog, f, arch, None)?;
        }
        Cmd::Check { input, mode } => {
            let prog = load_filter(&input, None)?;
            let m = match mode {
                CheckMode::Socket => Mode::Socket,
                CheckMode::Seccomp => Mode::Seccomp,
            };
            match check(&prog, m) {
                Ok(()) => println!("ok: {} instructions", prog.len()),
                Err(e) => {
                    println!("rejected: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Cmd::Run {
            filter,
            packet,
            json,
        } => {
            let prog = load_filter(&filter, None)?;
            let pkt = crate::input::read_file(&packet)?;
            let o = vm::classic::run_socket(&prog, &pkt, &vm::classic::SkbContext::default())?;
            let delivery = kernel::socket_filter::expected(o.ret, pkt.len());
            let action = seccomp_action(o.ret);
            if json {
                let v = serde_json::json!({
                    "ret": o.ret,
                    "delivery": delivery_json(&Ok(delivery)),
                    "packet_len": pkt.len(),
                    "insns": o.steps,
                    "seccomp_action": action.map(|a| a.to_string()),
                });
                println!("{v}");
            } else {
                println!("{}", run_text(o.ret, pkt.len()));
            }
        }
        Cmd::CrossCheck {
            filter,
            packet,
            json,
        } => {
            let prog = load_filter(&filter, None)?;
            let pkt = crate::input::read_file(&packet)?;
            let verdict = check(&prog, Mode::Socket);
            let emu = match &verdict {
                Ok(()) => {
                    let o = vm::classic::run_socket(&prog, &pkt, &vm::classic::SkbContext::unix())?;
                    Ok((o.ret, kernel::socket_filter::expected(o.ret, pkt.len())))
                }
                Err(e) => Err(e.to_string()),
            };
            let kern = kernel::socket_filter::run(&prog, &pkt).context("probing the kernel")?;
            let agree = match (&emu, &kern) {
                (Ok((_, a)), Ok(b)) => a == b,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if json {
                let v = serde_json::json!({
                    "emulator": delivery_json(&emu.as_ref().map(|(_, d)| *d).map_err(Clone::clone)),
                    "ret": emu.as_ref().ok().map(|(r, _)| *r),
                    "kernel": delivery_json(&kern.map_err(errno_text)),
                    "packet_len": pkt.len(),
                    "agree": agree,
                });
                println!("{v}");
            } else {
                print!("{}", cross_check_text(&emu, &kern, pkt.len(), agree));
            }
            if !agree {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a packet of `len` bytes becomes: `accept 64 bytes`, `accept 10 of 64 bytes`, `drop`.
fn delivery_text(d: Delivery, len: usize) -> String {
    match d {
        Delivery::Dropped => "drop".to_string(),
        Delivery::Kept(n) if n < len => format!("accept {n} of {len} bytes"),
        Delivery::Kept(n) => format!("accept {n} bytes"),
    }
}

/// The seccomp action a return value names, when it names one a socket filter would hardly
/// return (`ALLOW`, `ERRNO(1)`, ...; not 0, not a plain length like `0xffffffff`).
fn seccomp_action(ret: u32) -> Option<Action> {
    match Action::from_ret(ret) {
        Action::KillThread | Action::Unknown(_) => None,
        a => Some(a),
    }
}

/// The `bpfx cbpf run` line: `accept 64 bytes (r = 0x40)`, or for a return value that is a
/// seccomp action, its name first.
fn run_text(ret: u32, len: usize) -> String {
    let d = delivery_text(kernel::socket_filter::expected(ret, len), len);
    match seccomp_action(ret) {
        Some(a) => format!(
            "{a} (r = {ret:#x}, a seccomp action: see `bpfx seccomp run`; as a socket filter: {d})"
        ),
        None => format!("{d} (r = {ret:#x})"),
    }
}

fn delivery_json(d: &Result<Delivery, String>) -> serde_json::Value {
    match d {
        Ok(Delivery::Dropped) => serde_json::json!({"verdict": "drop"}),
        Ok(Delivery::Kept(n)) => serde_json::json!({"verdict": "accept", "bytes": n}),
        Err(e) => serde_json::json!({"verdict": "refused", "reason": e}),
    }
}

/// `Invalid argument (errno 22)`.
fn errno_text(errno: i32) -> String {
    let e = std::io::Error::from_raw_os_error(errno).to_string();
    let e = e.split(" (os error").next().unwrap_or_default();
    format!("{e} (errno {errno})")
}

/// The `bpfx cbpf cross-check` table: one row per side, then the verdict.
fn cross_check_text(
    emu: &Result<(u32, Delivery), String>,
    kern: &Result<Delivery, i32>,
    len: usize,
    agree: bool,
) -> String {
    let emu = match emu {
        Ok((ret, d)) => format!("{} (r = {ret:#x})", delivery_text(*d, len)),
        Err(e) => format!("refused by the checker: {e}"),
    };
    let kern = match kern {
        Ok(d) => delivery_text(*d, len),
        Err(e) => format!("refused: {}", errno_text(*e)),
    };
    let verdict = if agree { "agree" } else { "DIFFER" };
    format!("emulator  {emu}\nkernel    {kern}\n{verdict}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm::cbpf::formats::{self, Format};
    use asm::cbpf::{self, bpf_asm};
    use std::path::Path;

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("bpfx-cbpf-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn every_input_form_loads_the_same_program() {
        let prog = bpf_asm::assemble("ldh [12]\njeq #0x800, L1, L2\nL1: ret #0xffff\nL2: ret #0\n")
            .unwrap();
        assert_eq!(prog.len(), 4);
        let inputs = [
            temp("raw.bpf", &cbpf::encode(&prog)),
            temp("c.txt", formats::write(&prog, Format::C).as_bytes()),
            temp("n.txt", formats::write(&prog, Format::Bpfasm).as_bytes()),
            temp("asm.txt", bpf_asm::disassemble(&prog).as_bytes()),
            temp(
                "listing.txt",
                b"(000) ldh [12]\n(001) jeq #0x800 jt 2 jf 3\n(002) ret #65535\n(003) ret #0\n",
            ),
        ];
        for p in &inputs {
            assert_eq!(load_filter(p, None).unwrap(), prog, "{}", p.display());
            std::fs::remove_file(p).unwrap();
        }
        let s = temp("sc.txt", b"A = sys_number\nreturn ALLOW\n");
        assert_eq!(load_filter(&s, None).unwrap().len(), 2);
        std::fs::remove_file(&s).unwrap();
    }

    #[test]
    fn no_raw_bytes_on_a_terminal() {
        assert_eq!(asm_format(None, false).unwrap(), OutFormat::Raw);
        assert_eq!(asm_format(None, true).unwrap(), OutFormat::C);
        assert_eq!(
            asm_format(Some(OutFormat::Raw), false).unwrap(),
            OutFormat::Raw
        );
        assert!(asm_format(Some(OutFormat::Raw), true)
            .unwrap_err()
            .to_string()
            .contains("refusing to write raw bytecode to a terminal"));
        assert_eq!(
            asm_format(Some(OutFormat::Json), true).unwrap(),
            OutFormat::Json
        );
        assert!(!to_terminal(Some(Path::new("out.bpf"))));
    }

    #[test]
    fn assembly_errors_become_one_error() {
        let p = temp("bad.txt", b"ld [12]\nbogus\nret #0\nfoo #1\n");
        let e = load_filter(&p, Some(CDialect::BpfAsm)).unwrap_err();
        // Already reported (`error: NAME: 2 errors found`): exit status 1, nothing more printed.
        assert_eq!(e.to_string(), "");
        assert_eq!(exit_code(Err(e)).unwrap(), ExitCode::from(1));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn socket_filter_expectations_match_the_kernel() {
        // ret #3 keeps 3 bytes; ldb [9] drops short packets; ret a of 0 drops.
        for (src, pkt) in [
            ("ret #3\n", &b"hello"[..]),
            ("ldb [9]\nret #100\n", b"short"),
            ("ld #0\nret a\n", b"x"),
        ] {
            let prog = bpf_asm::assemble(src).unwrap();
            let Ok(k) = kernel::socket_filter::run(&prog, pkt) else {
                println!("skipped: AF_UNIX socket pair unavailable");
                return;
            };
            let o = vm::classic::run_socket(&prog, pkt, &vm::classic::SkbContext::unix()).unwrap();
            assert_eq!(
                Ok(kernel::socket_filter::expected(o.ret, pkt.len())),
                k,
                "{src}"
            );
        }
    }
}
