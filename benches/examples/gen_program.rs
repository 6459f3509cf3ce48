//! Writes the generated benchmark program to stdout: `cargo run -p bpfx-benches --example
//! gen_program -- 1000000 > gen.s`, to time other assemblers on the same input by hand.

fn main() {
    let lines = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    print!("{}", bpfx_benches::llvm_program(lines, 0x5eed));
}
