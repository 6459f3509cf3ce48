fn main() {
    print!("{}", bpfx_benches::llvm_program(200000, 0x5eed));
}
