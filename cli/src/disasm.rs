//! `bpfx disasm`: bytecode → text.

use crate::{input, render};
use anyhow::{bail, Result};
use asm::insn::decode_all;
use asm::text::{self, Dialect};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Disassemble eBPF bytecode into text, one instruction per line.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
By default the output is one instruction per line and nothing else, so it assembles back:
  bpfx disasm prog.bin | bpfx asm -o same.bin

Examples:
  bpfx disasm prog.bin
  bpfx disasm --dialect kernel --pc prog.bin
  bpfx disasm --input hex --bytes prog.hex")]
pub struct Args {
    /// Bytecode file or ELF object (`-` or nothing: standard input).
    pub file: Option<PathBuf>,
    /// Output syntax.
    #[arg(long, value_enum, default_value_t = OutDialect::Llvm)]
    pub dialect: OutDialect,
    /// How the input is encoded (auto: hex text if it parses as hex, else raw).
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input: InputFormat,
    /// Prefix each line with the instruction's slot index, like llvm-objdump.
    #[arg(long)]
    pub pc: bool,
    /// Show each instruction's bytes, like llvm-objdump.
    #[arg(long)]
    pub bytes: bool,
    /// Architecture whose syscall names the seccomp form uses until the filter checks it.
    #[arg(long, value_parser = crate::classic::parse_arch, default_value = "x86_64")]
    pub arch: asm::cbpf::seccomp::Arch,
    /// ELF object: list its CO-RE relocations and what they resolve to (against --btf,
    /// else the running kernel's BTF) instead of the code.
    #[arg(long)]
    pub relocs: bool,
    /// Target BTF for CO-RE relocations: a raw BTF file or an ELF object with `.BTF`.
    #[arg(long, value_name = "FILE")]
    pub btf: Option<PathBuf>,
}

/// Syntaxes `bpfx disasm` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutDialect {
    /// What llvm-objdump -d prints.
    Llvm,
    /// What the kernel's verifier log and bpftool print.
    Kernel,
    /// The ubpf / bpf_conformance spelling.
    Ubpf,
    /// Classic BPF (`struct sock_filter[]`) in bpf_asm syntax.
    #[value(name = "bpf_asm", alias = "bpf-asm")]
    BpfAsm,
    /// Classic BPF as a readable seccomp filter, with syscall names and actions.
    Seccomp,
}

/// Input encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Hex text if the input parses as hex, raw bytes otherwise.
    Auto,
    /// Raw bytecode.
    Raw,
    /// Hex text (whitespace, commas, `0x` prefixes and `#`/`//` comments allowed).
    Hex,
}

/// Classic BPF: raw `struct sock_filter[]`, a C array or `N,...` text, printed as text.
fn classic(
    args: &Args,
    format: crate::classic::OutFormat,
    color: render::Color,
) -> Result<ExitCode> {
    crate::classic::set_color(color);
    let path = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    crate::classic::exit_code((|| {
        let prog = crate::classic::load_filter(&path, None)?;
        crate::classic::write_out(&prog, format, args.arch, None)?;
        Ok(ExitCode::SUCCESS)
    })())
}

pub fn main(args: Args, color: render::Color) -> Result<ExitCode> {
    let dialect = match args.dialect {
        OutDialect::Llvm => Dialect::Llvm,
        OutDialect::Kernel => Dialect::Kernel,
        OutDialect::Ubpf => Dialect::Ubpf,
        OutDialect::BpfAsm => return classic(&args, crate::classic::OutFormat::BpfAsm, color),
        OutDialect::Seccomp => return classic(&args, crate::classic::OutFormat::Seccomp, color),
    };
    let (data, name) = input::read(args.file.as_deref())?;
    crate::load::nonempty(&data, &name)?;
    if input::is_elf(&data) {
        // A clang-built object: list its sections, symbols and relocations like
        // `llvm-objdump -dr` instead of treating the file as one flat program.
        let obj = crate::load::object(&data, &name)?;
        if args.relocs {
            let s = crate::core_relocs::listing(&obj, args.btf.as_deref());
            std::io::stdout().write_all(s.as_bytes())?;
            return Ok(ExitCode::SUCCESS);
        }
        std::io::stdout().write_all(crate::object::listing(&obj, dialect).as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let bytes = match args.input {
        InputFormat::Raw => data,
        InputFormat::Hex => match std::str::from_utf8(&data)
            .map_err(|e| e.to_string())
            .and_then(input::parse_hex)
        {
            Ok(b) => b,
            Err(e) => bail!("{name}: not hex text: {e}"),
        },
        InputFormat::Auto if input::looks_like_hex(&data) => {
            input::parse_hex(std::str::from_utf8(&data).unwrap_or_default()).unwrap_or_default()
        }
        InputFormat::Auto => data,
    };
    let (decoded, errors) = decode_all(&bytes);
    let mut out = String::new();
    for d in &decoded {
        if args.pc {
            let _ = write!(out, "{:>5}:\t", d.pc);
        }
        if args.bytes {
            let enc = d.insn.encode();
            let first = enc[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = write!(out, "{first}\t");
        }
        out.push_str(&text::print_insn(&d.insn, dialect));
        out.push('\n');
        if args.bytes && d.insn.slots() == 2 {
            let enc = d.insn.encode();
            let second = enc[8..]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            if args.pc {
                let _ = write!(out, "{:>5}:\t", d.pc + 1);
            }
            let _ = writeln!(out, "{second}");
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for e in errors.iter().take(crate::render::MAX_SHOWN) {
            eprintln!("error: {name}: {e}");
        }
        if errors.len() > crate::render::MAX_SHOWN {
            eprintln!(
                "error: too many errors ({} shown, {} more)",
                crate::render::MAX_SHOWN,
                errors.len() - crate::render::MAX_SHOWN
            );
        }
        eprintln!(
            "error: {name}: {} undecodable instruction{}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        Ok(ExitCode::from(1))
    }
}
