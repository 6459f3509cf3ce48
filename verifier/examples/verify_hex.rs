//! Verifies a program given as hex on the command line (a debugging aid):
//! `cargo run -p bpfx-verifier --example verify_hex -- TYPE HEX [LOG_LEVEL]`.
use asm::types::ProgType;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: verify_hex TYPE HEX [LOG_LEVEL]");
        std::process::exit(2);
    }
    let pt: ProgType = args[1].parse().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let hex = &args[2];
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect();
    let mut opts = verifier::Options::new(pt);
    opts.log_level = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    match verifier::verify_bytes(&bytes, &opts) {
        Ok(a) => println!("{}accepted: {a:?}", a.log),
        Err(r) => println!(
            "{}rejected: {} (insn {}, errno {})",
            r.log, r.message, r.insn, r.errno
        ),
    }
}
