//! `bpfx-conformance`: the bpf_conformance plugin protocol. Started as
//! `bpfx-conformance [MEM-HEX] [OPTIONS...]`, it reads the program from stdin as hex bytes
//! (`b4  00  00 ...`), runs it in the VM with r1 = the memory and r2 = its length, and prints
//! r0 in hex on stdout (exit 0), or an error on stderr (exit 1). Options after the memory
//! are accepted and ignored, as the protocol allows plugin-specific options. `--help` and
//! `--version` (as the first argument) print usage and the version.

use std::io::Read;
use std::process::ExitCode;

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("{} hex digits is an odd number", digits.len()));
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, p)| {
            let s: String = p.iter().collect();
            u8::from_str_radix(&s, 16).map_err(|_| format!("`{s}` (byte {i}) is not hex"))
        })
        .collect()
}

const USAGE: &str = "\
bpfx-conformance: bpfx's VM as a bpf_conformance plugin.

Usage: bpfx-conformance [MEMORY-HEX] [PLUGIN-OPTIONS...] < PROGRAM-HEX

Reads the program from standard input as hex bytes, runs it in the VM with r1 = the memory
(MEMORY-HEX, e.g. `01ff` or `01 ff`; none: no memory) and r2 = its length, and prints r0 in
hex. Exit status: 0 with r0 on stdout; 1 when the program fails (the error on stderr); 2
for unreadable input. Options after the memory are ignored (the protocol lets the runner
pass plugin-specific ones).

Options:
  -h, --help     Print this help
  -V, --version  Print the version

Examples:
  echo 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00' | bpfx-conformance    prints 2a
  bpf_conformance_runner --test_file_directory tests --plugin_path target/debug/bpfx-conformance

`bpfx conformance DIR` runs the suite's .data files without the runner.
";

fn main() -> ExitCode {
    let mem_hex = std::env::args().nth(1).unwrap_or_default();
    match mem_hex.as_str() {
        "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        "-V" | "--version" => {
            println!("bpfx-conformance {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        // Memory is hex digits: anything else with a dash is an option given by mistake.
        o if o.starts_with('-') => {
            eprintln!("error: unknown option `{o}`\n\nUsage: bpfx-conformance [MEMORY-HEX] [PLUGIN-OPTIONS...] < PROGRAM-HEX\n\nFor more information, try '--help'.");
            return ExitCode::from(2);
        }
        _ => {}
    }
    let mem = match parse_hex(&mem_hex) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: memory argument: {e}");
            return ExitCode::from(2);
        }
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("error: cannot read the program from stdin: {e}");
        return ExitCode::from(2);
    }
    let prog = match parse_hex(&input) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: program on stdin: {e}");
            return ExitCode::from(2);
        }
    };
    match vm::run_plain(&prog, &mem) {
        Ok(r0) => {
            println!("{r0:x}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
