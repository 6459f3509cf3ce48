//! The classic dialects, formats and checker: accepted forms, exact encodings, and errors
//! with their positions.

use asm::cbpf::check::{check, Mode, Rule};
use asm::cbpf::seccomp::{self, Action, Arch};
use asm::cbpf::{bpf_asm, code_of, decode, encode, formats, DecodeError, Form, SockFilter};
use asm::diag::LineIndex;

fn f(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter::new(code, jt, jf, k)
}

/// (line, column, message) of every error.
fn errors(
    src: &str,
    r: Result<Vec<SockFilter>, Vec<asm::Diagnostic>>,
) -> Vec<(usize, usize, String)> {
    let idx = LineIndex::new(src);
    r.unwrap_err()
        .iter()
        .map(|d| {
            let (l, c) = idx.line_col(d.span.start);
            (l, c, d.to_string())
        })
        .collect()
}

#[test]
fn bpf_asm_every_form() {
    let src = "\
        ld [12]\n ldh [12]\n ldb [12]\n ld [x + 14]\n ldh [x+14]\n ldb [%x + 14]\n\
        ld #len\n ld #0x10\n ld M[3]\n ldx #7\n ldx M[15]\n ldx #len\n ldxb 4*([14]&0xf)\n\
        st M[0]\n stx M[1]\n add #1\n sub x\n mul #3\n div #2\n mod x\n and #0xff\n or x\n\
        xor #5\n lsh #2\n rsh x\n neg\n tax\n txa\n ld #proto\n ldh #vlan_tci\n ldb #cpu\n\
        ret #0xffff\n ret a\n ret x\n";
    let p = bpf_asm::assemble(src).unwrap();
    let codes: Vec<u16> = p.iter().map(|i| i.code).collect();
    // The exact codes are what is under test (the uapi values, spelled out independently
    // of the opcode table), so they stay literals.
    assert_eq!(
        codes,
        [
            0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x80, 0x00, 0x60, 0x01, 0x61, 0x81, 0xb1, 0x02,
            0x03, 0x04, 0x1c, 0x24, 0x34, 0x9c, 0x54, 0x4c, 0xa4, 0x64, 0x7c, 0x84, 0x07, 0x87,
            0x20, 0x28, 0x30, 0x06, 0x16, 0x0e
        ]
    );
    assert_eq!(p[28].k, 0xffff_f000);
    assert_eq!(p[29].k, 0xffff_f000 + 44);
    assert_eq!(p[12].k, 14);
}

#[test]
fn bpf_asm_jumps_labels_and_pseudo_ops() {
    let src = "\
ldh [12]            ; comment
jeq #0x800, ipv4, drop
ipv4: jeq #1, one   # jf falls through
jne #2, drop
jlt #3, drop
jle #4, drop
jset x, drop, drop
one: ja drop
drop: ret #0
";
    let p = bpf_asm::assemble(src).unwrap();
    assert_eq!(p[1], f(0x15, 0, 6, 0x800));
    assert_eq!(p[2], f(0x15, 4, 0, 1));
    assert_eq!(p[3], f(0x15, 0, 4, 2));
    assert_eq!(p[4], f(0x35, 0, 3, 3));
    assert_eq!(p[5], f(0x25, 0, 2, 4));
    assert_eq!(p[6], f(0x4d, 1, 1, 0));
    assert_eq!(p[7], f(0x05, 0, 0, 0));
}

#[test]
fn tcpdump_and_bpf_dbg_listings() {
    let src = "\
(000) ldh      [12]
(001) jeq      #0x800           jt 2\tjf 5
(002) ldb      [23]
(003) jeq      #0x6             jt 4\tjf 5
(004) ret      #262144
(005) ret      #0
";
    let p = bpf_asm::assemble(src).unwrap();
    assert_eq!(p[1], f(0x15, 0, 3, 0x800));
    assert_eq!(p[3], f(0x15, 0, 1, 6));
    assert_eq!(p[4], f(0x06, 0, 0, 262144));
}

#[test]
fn bpf_asm_reports_every_error_with_its_place() {
    let src =
        "ld [12]\nfoo #1\njeq #1, nowhere\nld #0x100000000\nldxb 3*([1]&0xf)\nld [x + 1\nret #0\n";
    let e = errors(src, bpf_asm::assemble(src));
    assert_eq!(e.len(), 4, "{e:?}");
    assert_eq!((e[0].0, e[0].1), (2, 1));
    assert!(e[0].2.starts_with("unknown mnemonic `foo`"), "{}", e[0].2);
    assert_eq!(
        (e[1].0, e[1].2.as_str()),
        (
            4,
            "4294967296 does not fit in 32 bits (expected -2147483648 ..= 4294967295)"
        )
    );
    assert_eq!(e[2].0, 5);
    assert!(e[2].2.contains("4*([k]&0xf)"));
    assert_eq!(e[3].0, 6);
    assert!(e[3].2.starts_with("unexpected end of line"), "{}", e[3].2);
    // Label errors come from the resolver once the text parses.
    let src = "jeq #1, nowhere\nl1: ret #0\nl1: ret #1\n";
    let e = errors(src, bpf_asm::assemble(src));
    assert_eq!(
        e,
        [
            (1, 9, "undefined label `nowhere`".to_string()),
            (3, 1, "label `l1` is defined twice".to_string())
        ]
    );
}

#[test]
fn jumps_only_forward_and_bpf_asm_refuses_far_branches() {
    let src = "top: ld #1\njeq #1, top\nret #0\n";
    let e = errors(src, bpf_asm::assemble(src));
    assert_eq!(e, [(2, 9, "classic BPF jumps only forward".to_string())]);
    let far = format!("jeq #1, end\n{}end: ret #0\n", "ld #0\n".repeat(300));
    let e = errors(&far, bpf_asm::assemble(&far));
    assert_eq!(
        e[0].2,
        "conditional jump of 300 instructions does not fit in 8 bits"
    );
}

#[test]
fn seccomp_far_branches_get_a_trampoline() {
    let far = format!(
        "A = sys_number\nif (A == 1) goto end else goto next\nnext:\n{}end: return ALLOW\n",
        "A = 0\n".repeat(300)
    );
    let p = seccomp::assemble(&far).unwrap();
    // The branch goes to an inserted `ja` right after it, which reaches `end`.
    assert_eq!(p[1], f(0x15, 0, 1, 1));
    assert_eq!(p[2], f(0x05, 0, 0, 300));
    assert_eq!(p.len(), 304);
    assert_eq!(p[2 + 1 + 300], f(0x06, 0, 0, 0x7fff_0000));
    let text = seccomp::disassemble(&p, Arch::X86_64);
    assert_eq!(seccomp::assemble(&text).unwrap(), p);
}

#[test]
fn seccomp_dialect_forms() {
    let src = "\
#arch x86_64
    A = arch
    if (A != ARCH_X86_64) goto kill
    A = sys_number
    if (A >= 0x40000000) goto kill
    if (A == openat) goto deny else goto next
next:
    A = args[1]
    A = args_hi[1]
    A = instruction_pointer
    A &= 0xff
    A += X
    A = -A
    X = A
    mem[2] = A
    A = mem[2]
    if (A & 0x40) goto deny
    if !(A & 0x40) goto deny
    if (A <= X) goto deny
    if (A < 7) goto deny
    goto allow
allow: return ALLOW
deny: return ERRNO(13)
kill: return KILL_PROCESS
";
    let p = seccomp::assemble(src).unwrap();
    assert_eq!(p[0], f(0x20, 0, 0, 4));
    assert_eq!(p[1], f(0x15, 0, 19, 0xc000_003e));
    assert_eq!(p[3], f(0x35, 17, 0, 0x4000_0000));
    assert_eq!(p[4], f(0x15, 15, 0, 257));
    assert_eq!(p[5], f(0x20, 0, 0, 24));
    assert_eq!(p[6], f(0x20, 0, 0, 28));
    assert_eq!(p[7], f(0x20, 0, 0, 8));
    assert_eq!(p[8], f(0x54, 0, 0, 0xff));
    assert_eq!(p[9], f(0x0c, 0, 0, 0));
    assert_eq!(p[10], f(0x84, 0, 0, 0));
    assert_eq!(p[14], f(0x45, 5, 0, 0x40));
    assert_eq!(p[15], f(0x45, 0, 4, 0x40));
    assert_eq!(p[16], f(0x2d, 0, 3, 0));
    assert_eq!(p[17], f(0x35, 0, 2, 7));
    assert_eq!(p[20], f(0x06, 0, 0, 0x0005_000d));
    assert_eq!(p[21], f(0x06, 0, 0, 0x8000_0000));
}

#[test]
fn seccomp_names_follow_the_architecture() {
    let src =
        "A = sys_number\nif (A == ARCH_I386) goto a\na: if (A == openat) goto b\nb: return ALLOW\n";
    assert_eq!(seccomp::assemble(src).unwrap()[2].k, 295);
    let src = ".arch aarch64\nA = openat\n.arch x32\nX = read\nreturn A\n";
    let p = seccomp::assemble(src).unwrap();
    assert_eq!((p[0].k, p[1].k), (56, 0x4000_0000));
    let src = "A = sys_number\nif (A == openat) goto x\nx: return TRAP(70000)\n";
    let e = errors(src, seccomp::assemble(src));
    assert_eq!(e.len(), 2);
    assert!(
        e[0].2
            .starts_with("`openat` is no known constant, and no architecture is set"),
        "{}",
        e[0].2
    );
    assert_eq!(
        e[1].2,
        "action data 70000 does not fit in 16 bits (expected 0 ..= 65535)"
    );
    let src = ".arch x86_64\nA = args[6]\nA = frobnicate\n.arch vax\n";
    let e = errors(src, seccomp::assemble(src));
    assert_eq!(e.iter().map(|e| e.0).collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn actions_decode_and_print() {
    for (ret, text) in [
        (0x7fff_0000, "ALLOW"),
        (0x8000_0000, "KILL_PROCESS"),
        (0, "KILL_THREAD"),
        (0x0003_002a, "TRAP(42)"),
        (0x0005_0001, "ERRNO(1)"),
        (0x7ff0_0007, "TRACE(7)"),
        (0x7ffc_0000, "LOG"),
        (0x7fc0_0000, "USER_NOTIF"),
        (0x0001_0000, "UNKNOWN(0x00010000)"),
    ] {
        assert_eq!(Action::from_ret(ret).to_string(), text);
    }
    // Signed comparison of the action bits: KILL_PROCESS beats everything.
    assert_eq!(seccomp::combine(&[0x7fff_0000, 0x8000_0000, 0]), Some(1));
    assert_eq!(seccomp::combine(&[0x0005_0002, 0x0005_0001]), Some(0));
}

#[test]
fn syscall_tables() {
    assert_eq!(Arch::X86_64.syscall_nr("openat"), Some(257));
    assert_eq!(Arch::I386.syscall_nr("socketcall"), Some(102));
    assert_eq!(Arch::X32.syscall_nr("read"), Some(0x4000_0000));
    assert_eq!(Arch::Aarch64.syscall_nr("openat"), Some(56));
    assert_eq!(Arch::Riscv64.syscall_nr("riscv_flush_icache"), Some(259));
    assert_eq!(Arch::Arm.syscall_nr("set_tls"), Some(0xf0005));
    assert_eq!(Arch::X86_64.syscall_name(451), Some("cachestat"));
    assert_eq!(Arch::from_audit(0xc000_00b7), Some(Arch::Aarch64));
}

#[test]
fn binary_decoding_errors() {
    assert_eq!(
        decode(&[0; 12]),
        Err(DecodeError::Truncated { len: 12, index: 1 })
    );
    // 0x0f is not a classic opcode (BPF_MISC whose op is neither tax nor txa): the byte is
    // what is under test.
    let ret_0 = f(code_of(Form::RetK), 0, 0, 0);
    let mut b = encode(&[ret_0, f(0x0f, 0, 0, 0)]);
    assert_eq!(
        decode(&b),
        Err(DecodeError::UnknownOpcode {
            index: 1,
            code: 0x0f
        })
    );
    b.truncate(8);
    assert_eq!(decode(&b).unwrap(), [ret_0]);
}

#[test]
fn text_formats() {
    let prog = vec![
        f(0x20, 0, 0, 4),
        f(0x15, 1, 0, 0xc000_003e),
        f(0x06, 0, 0, 0),
        f(0x06, 0, 0, 0x7fff_0000),
    ];
    let c = formats::write(&prog, formats::Format::C);
    assert_eq!(c.lines().next(), Some("{ 0x20, 0, 0, 0x00000004 },"));
    assert_eq!(
        formats::parse_c(&format!("struct sock_filter f[] = {{\n{c}}};\n")).unwrap(),
        prog
    );
    let rust = formats::write(&prog, formats::Format::Rust);
    assert!(rust.contains("libc::sock_filter { code: 0x0015, jt: 1, jf: 0, k: 0xc000003e },"));
    let json = formats::write(&prog, formats::Format::Json);
    assert!(json.starts_with("[{\"code\":32,\"jt\":0,\"jf\":0,\"k\":4},"));
    assert_eq!(formats::detect("4,32 0 0 4,"), formats::TextKind::Bpfasm);
    let e = formats::parse_bpfasm("2,6 0 0 0,").unwrap_err();
    assert_eq!(e[0].message, "the count says 2 instructions but 1 follow");
    let e = formats::parse_bpfasm("1,6 0 256 0,").unwrap_err();
    assert_eq!(e[0].message, "instruction 0: jf 256 does not fit");
    let e = formats::parse_c("{ 0x06, 0, 0 },").unwrap_err();
    assert_eq!(e[0].message, "an instruction has four fields");
}

#[test]
fn checker_rules_in_kernel_order() {
    let rule = |src: &str, mode| {
        check(&bpf_asm::assemble(src).unwrap(), mode).map_err(|e| (e.index, e.rule))
    };
    assert_eq!(check(&[], Mode::Socket).unwrap_err().rule, Rule::Empty);
    assert_eq!(
        check(&vec![f(6, 0, 0, 0); 4097], Mode::Socket)
            .unwrap_err()
            .rule,
        Rule::TooLong
    );
    // An invalid classic opcode (0x0f: no instruction): the byte is what is under test.
    assert_eq!(
        check(&[f(0x0f, 0, 0, 0)], Mode::Socket).unwrap_err().rule,
        Rule::Opcode
    );
    assert_eq!(rule("ret x\n", Mode::Socket), Err((Some(0), Rule::Opcode)));
    assert_eq!(
        rule("div #0\nret a\n", Mode::Socket),
        Err((Some(0), Rule::DivByZero))
    );
    assert_eq!(
        rule("lsh #32\nret a\n", Mode::Socket),
        Err((Some(0), Rule::ShiftTooFar))
    );
    assert_eq!(
        check(&[f(0x60, 0, 0, 16), f(6, 0, 0, 0)], Mode::Socket)
            .unwrap_err()
            .rule,
        Rule::MemOutOfRange
    );
    assert_eq!(
        check(&[f(0x05, 0, 0, 1), f(6, 0, 0, 0)], Mode::Socket)
            .unwrap_err()
            .rule,
        Rule::JumpOutOfRange
    );
    assert_eq!(
        check(&[f(0x15, 1, 0, 1), f(6, 0, 0, 0)], Mode::Socket)
            .unwrap_err()
            .rule,
        Rule::JumpOutOfRange
    );
    assert_eq!(
        check(
            &[f(0x20, 0, 0, 0xffff_f000 + 64), f(6, 0, 0, 0)],
            Mode::Socket
        )
        .unwrap_err()
        .rule,
        Rule::UnknownAncillary
    );
    assert_eq!(
        rule("ld #1\n", Mode::Socket),
        Err((Some(0), Rule::NoFinalRet))
    );
    // M[] must be written on every path; the kernel does not reset after a `ret`.
    assert_eq!(
        rule(
            "jeq #1, w\nja r\nw: st M[0]\nr: ld M[0]\nret a\n",
            Mode::Socket
        ),
        Err((Some(3), Rule::MemReadBeforeWrite))
    );
    assert_eq!(
        rule(
            "st M[0]\njeq #1, a, b\na: ld M[0]\nb: ret a\n",
            Mode::Socket
        ),
        Ok(())
    );
    // Seccomp on top.
    assert_eq!(rule("mod #3\nret a\n", Mode::Socket), Ok(()));
    assert_eq!(
        rule("mod #3\nret a\n", Mode::Seccomp),
        Err((Some(0), Rule::SeccompOpcode))
    );
    assert_eq!(rule("xor #3\nret a\n", Mode::Seccomp), Ok(()));
    assert_eq!(
        rule("ld [2]\nret a\n", Mode::Seccomp),
        Err((Some(0), Rule::SeccompLoad))
    );
    assert_eq!(
        rule("ld [64]\nret a\n", Mode::Seccomp),
        Err((Some(0), Rule::SeccompLoad))
    );
    assert_eq!(
        rule("ld #proto\nret a\n", Mode::Seccomp),
        Err((Some(0), Rule::SeccompLoad))
    );
    assert_eq!(
        rule("ldx #1\nld [x + 0]\nret a\n", Mode::Seccomp),
        Err((Some(1), Rule::SeccompOpcode))
    );
    assert_eq!(rule("ld #len\nret a\n", Mode::Seccomp), Ok(()));
    // Stacked filters: 8 * 4096 = 32768 fits alone, but not with the 4-instruction penalty.
    assert!(asm::cbpf::check::check_stack(&[4096; 7]).is_ok());
    let e = asm::cbpf::check::check_stack(&[4096; 8]).unwrap_err();
    assert_eq!((e.index, e.rule), (Some(7), Rule::StackTooLong));
    assert!(asm::cbpf::check::check_stack(&[4090; 8]).is_ok());
}

#[test]
fn disassembly_of_odd_programs_reassembles() {
    // Stray fields, an unknown opcode and a jump past the end all survive a round trip.
    let prog = vec![
        f(0x20, 3, 0, 4),
        f(0xffff, 1, 2, 3),
        f(0x15, 200, 0, 1),
        f(0x84, 0, 0, 9),
        f(0x06, 0, 0, 0),
    ];
    let text = bpf_asm::disassemble(&prog);
    assert!(text.contains(".raw 0x0020, 3, 0, 0x4"), "{text}");
    assert!(text.contains("jeq #1, 203"), "{text}");
    assert_eq!(bpf_asm::assemble(&text).unwrap(), prog);
    let text = seccomp::disassemble(&prog, Arch::X86_64);
    assert_eq!(seccomp::assemble(&text).unwrap(), prog);
}

#[test]
fn comments_and_non_ascii() {
    let src = "ld [12] /* é */ ; ünïcode\n# a comment line\nret #0 # trailing\n";
    assert_eq!(bpf_asm::assemble(src).unwrap().len(), 2);
    let src = "ld [12] /* open\nret é\n";
    let e = errors(src, bpf_asm::assemble(src));
    assert_eq!(
        e.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
        [(1, 9), (2, 5)]
    );
    let src = "A = arch // ok\nreturn ALLOW # ñ\n";
    assert_eq!(seccomp::assemble(src).unwrap().len(), 2);
}
