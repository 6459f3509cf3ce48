//! Properties of the classic text forms over arbitrary programs and arbitrary text.

use asm::cbpf::seccomp::{self, Arch};
use asm::cbpf::{bpf_asm, formats, table, SockFilter};
use proptest::prelude::*;

fn insn() -> impl Strategy<Value = SockFilter> {
    let codes: Vec<u16> = table().iter().map(|d| d.code).collect();
    (
        prop_oneof![8 => prop::sample::select(codes), 1 => any::<u16>()],
        prop_oneof![3 => Just(0u8), 3 => 0u8..8, 1 => any::<u8>()],
        prop_oneof![3 => Just(0u8), 3 => 0u8..8, 1 => any::<u8>()],
        prop_oneof![3 => 0u32..70, 1 => any::<u32>(), 1 => Just(0xffff_f000u32), 1 => Just(0xc000_003eu32)],
    )
        .prop_map(|(code, jt, jf, k)| SockFilter { code, jt, jf, k })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Any decodable program prints in both dialects and reassembles to the same bytes.
    #[test]
    fn both_dialects_round_trip(prog in prop::collection::vec(insn(), 0..40), arch in prop::sample::select(Arch::ALL.to_vec())) {
        let text = bpf_asm::disassemble(&prog);
        prop_assert_eq!(bpf_asm::assemble(&text).map_err(|e| format!("{e:?}\n{text}")), Ok(prog.clone()));
        let text = seccomp::disassemble(&prog, arch);
        prop_assert_eq!(seccomp::assemble(&text).map_err(|e| format!("{e:?}\n{text}")), Ok(prog.clone()));
        for f in [formats::Format::C, formats::Format::Bpfasm] {
            let t = formats::write(&prog, f);
            let back = if f == formats::Format::C { formats::parse_c(&t) } else { formats::parse_bpfasm(&t) };
            if prog.is_empty() && f == formats::Format::C {
                // An empty initializer has no `{ code, jt, jf, k }` to find; `0,` is fine.
                prop_assert!(back.is_err());
            } else {
                prop_assert_eq!(back, Ok(prog.clone()));
            }
        }
    }

    /// Arbitrary text never panics, and every diagnostic points inside the text.
    #[test]
    fn arbitrary_text_gives_diagnostics_not_panics(src in "([ -~\n\t]|\\PC){0,200}") {
        for r in [bpf_asm::assemble(&src), seccomp::assemble(&src), formats::parse_c(&src), formats::parse_bpfasm(&src)] {
            if let Err(diags) = r {
                prop_assert!(!diags.is_empty());
                for d in diags {
                    prop_assert!(d.span.start <= d.span.end && d.span.end <= src.len(), "{:?} outside {}", d.span, src.len());
                }
            }
        }
    }

    /// Mnemonic-shaped lines hit more of the grammars than random characters.
    #[test]
    fn plausible_lines_never_panic(lines in prop::collection::vec(
        "(l[0-9]: )?(ld|ldh|ldb|ldx|ldxb|st|stx|jeq|jne|jlt|jset|ja|add|neg|ret|tax|A =|X =|if \\(A ==|goto|return|mem\\[1\\] =) ?(#-?[0-9]{1,11}|\\[x \\+ [0-9]\\]|M\\[[0-9]{1,2}\\]|l[0-9]|args\\[[0-9]\\]|ALLOW|ERRNO\\([0-9]{1,6}\\)|read|x|a)?(, ?l[0-9])?\\)?( goto l[0-9])?",
        0..12,
    )) {
        let src = lines.join("\n");
        for r in [bpf_asm::assemble(&src), seccomp::assemble(&src)] {
            if let Err(diags) = r {
                for d in diags {
                    prop_assert!(d.span.end <= src.len());
                }
            }
        }
    }
}

#[test]
fn both_branches_far_get_two_trampolines() {
    let src = format!(
        "A = sys_number\nif (A == 1) goto a else goto b\n{}a: return ALLOW\n{}b: return KILL_PROCESS\n",
        "A = 0\n".repeat(260),
        "A = 1\n".repeat(260)
    );
    let p = seccomp::assemble(&src).unwrap();
    assert_eq!(p[1], SockFilter::new(0x15, 0, 1, 1));
    // Two `ja`s follow: to `a` and to `b`.
    let a = 2 + 1 + p[2].k as usize;
    let b = 3 + 1 + p[3].k as usize;
    assert_eq!((p[2].code, p[3].code), (0x05, 0x05));
    assert_eq!(p[a], SockFilter::new(0x06, 0, 0, 0x7fff_0000));
    assert_eq!(p[b], SockFilter::new(0x06, 0, 0, 0x8000_0000));
    assert_eq!(p.len(), 2 + 2 + 260 + 1 + 260 + 1);
}
