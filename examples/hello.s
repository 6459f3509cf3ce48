// The book's "Hello, BPF World!" as a tracepoint program, written by hand in LLVM syntax.
// Assemble:     bpfx asm examples/hello.s -o hello.bin
// Disassemble:  bpfx disasm hello.bin
.equ MSG_LEN, 18

hello:
    // Build "Hello, BPF World!\0" on the stack, 8 bytes at a time (little-endian).
    r1 = 0x5720465042202c6f ll      // "o, BPF W"
    *(u64 *)(r10 - 16) = r1
    r1 = 0x21646c726f ll            // "orld!\0"
    *(u64 *)(r10 - 8) = r1
    r1 = 0x6c6c6548 ll              // "Hell"
    *(u32 *)(r10 - 20) = r1
    r1 = r10
    r1 += -20
    r2 = MSG_LEN
    call bpf_trace_printk
    r0 = 0
    exit
