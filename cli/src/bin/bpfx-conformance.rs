//! `bpfx-conformance`: the bpf_conformance plugin protocol. Started as
//! `bpfx-conformance [MEM-HEX] [OPTIONS...]`, it reads the program from stdin as hex bytes
//! (`b4  00  00 ...`), runs it in the VM with r1 = the memory and r2 = its length, and prints
//! r0 in hex on stdout (exit 0), or an error on stderr (exit 1). Options after the memory
//! are accepted and ignored, as the protocol allows plugin-specific options.

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

fn main() -> ExitCode {
    let mem_hex = std::env::args().nth(1).unwrap_or_default();
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
