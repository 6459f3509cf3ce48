//! Bad LLVM-dialect inputs: each error names what is wrong, where (a span into the text),
//! and what would have been accepted.

use asm::text::{assemble, Dialect};
use asm::Diagnostic;

fn errors(src: &str) -> Vec<Diagnostic> {
    match assemble(src, Dialect::Llvm) {
        Ok(a) => panic!("{src:?} assembled to {:?}", a.insns),
        Err(e) => e,
    }
}

/// The only error of `src`: its message contains `msg` and its span covers `at`.
fn one(src: &str, msg: &str, at: &str) -> Diagnostic {
    let errs = errors(src);
    assert_eq!(errs.len(), 1, "{src:?}: {errs:?}");
    let d = errs.into_iter().next().unwrap();
    assert!(
        d.message.contains(msg),
        "{src:?}: message {:?} lacks {msg:?}",
        d.message
    );
    assert_eq!(&src[d.span.range()], at, "{src:?}: span of {:?}", d.message);
    d
}

#[test]
fn register_class_mismatch_names_the_expected_register() {
    let d = one(
        "w0 += r1",
        "expected a 32-bit register (`w1`), found `r1`",
        "r1",
    );
    assert_eq!(d.expected, ["w1"]);
    let d = one(
        "if r1 > w2 goto +1",
        "expected a 64-bit register (`r2`)",
        "w2",
    );
    assert_eq!(d.expected, ["r2"]);
    one("w0 = 1 ll", "expected a 64-bit register (`r0`)", "w0");
    one(
        "r0 = *(u64 *)(w1 + 0)",
        "expected a 64-bit register (`r1`)",
        "w1",
    );
    one("r0 = (s8)w1", "expected a 64-bit register (`r1`)", "w1");
}

#[test]
fn out_of_range_values_are_errors_not_truncations() {
    let d = one("r0 = 0x123456789", "does not fit in 32 bits", "0x123456789");
    assert!(d.help.unwrap().contains("r0 = 0x123456789 ll"));
    one(
        "*(u64 *)(r1 + 40000) = r2",
        "offset 40000 is out of range",
        "+ 40000",
    );
    one("goto +32768", "jump offset 32768 is out of range", "+32768");
    one(
        "r0 = 18446744073709551616 ll",
        "does not fit in 64 bits",
        "18446744073709551616",
    );
    one("r11 = 1", "there is no register `r11`", "r11");
    one(
        "r0 = addr_space_cast(r1, 0x10000, 0)",
        "does not fit in 16 bits",
        "0x10000",
    );
}

#[test]
fn syntax_errors_list_what_was_expected() {
    let d = one("r0 = \n", "unexpected end of line", "\n");
    assert!(
        d.expected.iter().any(|e| e == "register"),
        "{:?}",
        d.expected
    );
    assert!(d.expected.iter().any(|e| e == "number"), "{:?}", d.expected);
    let d = one("if r1 > 3 goto", "unexpected end of line", "");
    assert!(d.expected.iter().any(|e| e == "`pc`"), "{:?}", d.expected);
    one("r0 = 1 @", "unexpected character `@`", "@");
    one("/* open\nr0 = 1\n", "comment is not closed", "/*");
    one(".byte 1, 2", "unsupported directive `.byte`", ".byte");
    one("r0 = 09", "not a valid octal", "09");
}

#[test]
fn form_specific_checks() {
    one(
        "r0 = *(s64 *)(r1 + 0)",
        "no sign-extending 64-bit load",
        "s64",
    );
    one("lock *(u8 *)(r1 + 0) += w2", "32 or 64 bits", "u8");
    one(
        "w2 = atomic_fetch_add(( u16 *)(r1 + 0), w2)",
        "32 or 64 bits",
        "u16",
    );
    let d = one(
        "lock *(u64 *)(r1 + 0) -= r2",
        "`lock -=` is not an atomic operation",
        "-=",
    );
    assert_eq!(d.expected, ["+=", "|=", "&=", "^="]);
    let d = one("r1 = -r2", "negation works in place", "r2");
    assert_eq!(d.help.as_deref(), Some("write `r1 = -r1`"));
    one("r1 = *(u8 *)skb[4]", "always load into r0", "r1");
    one(
        "r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)",
        "must use the same register",
        "r3",
    );
    one(
        "r1 = cmpxchg_64(r1 + 0, r0, r2)",
        "compares with and returns in r0",
        "r1",
    );
    one("ld_pseudo r1, 9, 1", "unknown pseudo source 9", "9");
    one(
        "(b7) r0 = r1",
        "opcode (b7) does not match the instruction, which is (bf)",
        "(b7)",
    );
    one("w0 = (s32)w1", "invalid sign-extension cast", "s32");
}

#[test]
fn names_resolve_or_explain() {
    let d = one(
        "call bpf_trace_printf",
        "neither a label nor a known helper",
        "bpf_trace_printf",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `bpf_trace_printk`?"));
    one("goto nowhere", "unknown label `nowhere`", "nowhere");
    one(
        "call bpf_map_lookup_elem#2",
        "`bpf_map_lookup_elem` is helper 1, not 2",
        "bpf_map_lookup_elem#2",
    );
    one("r0 = LIMIT", "unknown name `LIMIT`", "LIMIT");
}

#[test]
fn every_error_in_the_file_is_reported_in_order() {
    let src =
        "r0 = 1\nw0 += r1\nr0 = \nexit\nr12 = 3\n.byte 4\nlock *(u8 *)(r1 + 0) += w2\nr0 = 2 $\nr0 = 0x123456789\ngoto nowhere\n";
    let errs = errors(src);
    let lines: Vec<usize> = errs
        .iter()
        .map(|d| src[..d.span.start].matches('\n').count() + 1)
        .collect();
    // The last two are found by resolving the lines that did parse.
    assert_eq!(lines, [2, 3, 5, 6, 7, 8, 9, 10], "{errs:?}");
    assert!(errs[6].message.contains("does not fit in 32 bits"));
    assert!(errs[7].message.contains("unknown label `nowhere`"));
}

#[test]
fn spans_point_into_multi_line_sources() {
    let src = "start:\n  r0 = 1 // ok\n  /* a\n     comment */ r1 = 2\n  r1 = w2\n";
    let d = one(src, "expected a 64-bit register (`r2`)", "w2");
    let index = asm::diag::LineIndex::new(src);
    assert_eq!(index.line_col(d.span.start), (5, 8));
}

mod arbitrary_text {
    use asm::text::{assemble, Dialect};
    use proptest::prelude::*;

    /// Pieces of the syntax (and of its near misses), so random lines get deep into the
    /// grammar instead of failing at the first character.
    const PIECES: &[&str] = &[
        "r0",
        "w1",
        "r10",
        "r11",
        "w99",
        " = ",
        " += ",
        " s/= ",
        "-",
        "+",
        "*",
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        ";",
        "\n",
        " ",
        "0x10",
        "42",
        "-7",
        "09",
        "0x",
        "99999999999999999999",
        "ll",
        "if",
        "goto",
        "gotol",
        "call",
        "callx",
        "exit",
        "lock",
        "skb",
        "pc",
        "*(u32 *)",
        "(u8 *)",
        "(r1 + 4)",
        "(r1 -4)",
        "(s8)",
        "be16",
        "bswap64",
        "atomic_fetch_add",
        "xchg_64",
        "cmpxchg32_32",
        "load_acquire",
        "store_release",
        "map_fd",
        "map_value",
        "ld_pseudo",
        "addr_space_cast",
        "label",
        "label:",
        ".equ",
        ".byte",
        ".text",
        "/*",
        "*/",
        "//",
        "#",
        "bpf_map_lookup_elem#1",
        "kernel-function#3",
        "(b7)",
        "(18)",
        "0:",
        "kfunc",
        "\"",
        "@",
        "é",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn never_panics_and_spans_stay_inside(parts in proptest::collection::vec(0..PIECES.len(), 0..24)) {
            let src: String = parts.iter().map(|&i| PIECES[i]).collect();
            if let Err(errs) = assemble(&src, Dialect::Llvm) {
                prop_assert!(!errs.is_empty());
                for d in errs {
                    prop_assert!(d.span.start <= d.span.end && d.span.end <= src.len(), "{d:?} in {src:?}");
                    prop_assert!(src.is_char_boundary(d.span.start) && src.is_char_boundary(d.span.end), "{d:?} in {src:?}");
                    prop_assert!(!d.message.is_empty());
                }
            }
        }
    }
}
