//! `bpfx`: assemble, disassemble, run, verify and cross-check BPF programs.
//!
//! Exit status: 0 ok, 1 input rejected (the reason on stderr), 2 usage or I/O error.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod asm;
mod cbpf;
mod classic;
mod conformance;
mod core_relocs;
mod cross_check;
mod disasm;
mod exit;
mod input;
mod kconfig;
mod kernel;
mod load;
mod object;
mod render;
mod run;
mod seccomp;
mod test;
mod verdict;
mod verify;

/// Assemble, disassemble, run and check BPF programs.
#[derive(Debug, Parser)]
#[command(name = "bpfx", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    /// When to color diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = render::Color::Auto)]
    color: render::Color,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  bpfx asm examples/hello.s -o hello.bin        assemble LLVM-syntax eBPF to bytecode
  bpfx asm --format hex examples/hello.s        print the bytecode as hex
  bpfx disasm hello.bin                         print it back as LLVM syntax
  bpfx asm examples/hello.s | bpfx disasm --dialect kernel";

#[derive(Debug, Subcommand)]
enum Command {
    /// Assemble eBPF text (LLVM or ubpf syntax) into bytecode.
    Asm(asm::Args),
    /// Disassemble eBPF bytecode into text.
    Disasm(disasm::Args),
    /// Run a program in the VM (kernel semantics, no root needed).
    Run(run::Args),
    /// Run bpf_conformance `.data` tests in the VM.
    Conformance(conformance::Args),
    /// Use the running kernel: probe it, run programs in it, run conformance cases.
    Kernel(kernel::Args),
    /// Run a program in the VM and in the kernel and compare the results.
    CrossCheck(cross_check::Args),
    /// Run declarative test files (TOML) against BPF programs in the VM.
    Test(test::Args),
    /// Seccomp filters: emulate, tabulate, assemble, disassemble, cross-check.
    Seccomp(seccomp::Args),
    /// Classic BPF (socket filters): assemble, disassemble, check, run, cross-check.
    Cbpf(cbpf::Args),
    /// Verify a program as the Linux 6.18 verifier would, without root.
    Verify(verify::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Asm(args) => asm::main(args, cli.color),
        Command::Disasm(args) => disasm::main(args, cli.color),
        Command::Run(args) => run::main(args),
        Command::Conformance(args) => conformance::main(args),
        Command::Kernel(args) => kernel::main(args),
        Command::CrossCheck(args) => cross_check::main(args),
        Command::Test(args) => test::main(args),
        Command::Seccomp(args) => seccomp::main(args, cli.color),
        Command::Cbpf(args) => cbpf::main(args, cli.color),
        Command::Verify(args) => verify::main(args, cli.color),
    };
    match result {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<exit::Rejected>() {
            Some(exit::Rejected(m)) => {
                if !m.is_empty() {
                    eprintln!("error: {m}");
                }
                ExitCode::from(exit::EXIT_REJECTED)
            }
            None => {
                eprintln!("error: {e:#}");
                ExitCode::from(exit::EXIT_USAGE)
            }
        },
    }
}
