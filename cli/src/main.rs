//! bpfx: assemble, disassemble, run, verify and cross-check BPF programs.

mod cbpf;
mod seccomp;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "bpfx", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Seccomp filters: emulate, tabulate, assemble, disassemble, cross-check.
    Seccomp(seccomp::Args),
    /// Classic BPF (socket filters): assemble, disassemble, check, run, cross-check.
    Cbpf(cbpf::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Seccomp(a) => seccomp::main(a),
        Cmd::Cbpf(a) => cbpf::main(a),
    };
    match r {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
