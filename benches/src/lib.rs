//! Inputs shared by the benchmarks: deterministic generated programs.

/// The deterministic generator every generated input uses, so each run measures the same
/// input.
pub use test_support::Rng;

/// An LLVM-syntax program of `lines` instructions covering every instruction class, in
/// the spelling llvm-mc accepts (so both assemblers can read the same file). Jumps go
/// forward by at most 16 and the program ends with `exit`.
pub fn llvm_program(lines: usize, seed: u64) -> String {
    const ALU: &[&str] = &[
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "%=", "^=", "=", "s>>=", "s/=", "s%=",
    ];
    const CMP: &[&str] = &[
        "==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&",
    ];
    const SIZES: &[&str] = &["u8", "u16", "u32", "u64"];
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(lines * 28);
    let mut i = 0;
    while i + 1 < lines {
        let d = rng.below(10);
        let s = rng.below(10);
        let imm = rng.below(1 << 20) as i64 - (1 << 19);
        let off = rng.below(512) as i64 - 256;
        let line = match rng.below(16) {
            0..=2 => format!("r{d} {} r{s}", ALU[rng.below(ALU.len() as u64) as usize]),
            3..=4 => format!("w{d} {} {imm}", ALU[rng.below(ALU.len() as u64) as usize]),
            5 => format!(
                "r{d} = *({} *)(r{s} {} {})",
                SIZES[rng.below(4) as usize],
                if off < 0 { '-' } else { '+' },
                off.abs()
            ),
            6 => format!(
                "*({} *)(r{d} {} {}) = r{s}",
                SIZES[rng.below(4) as usize],
                if off < 0 { '-' } else { '+' },
                off.abs()
            ),
            7 => format!(
                "if r{d} {} r{s} goto +{}",
                CMP[rng.below(CMP.len() as u64) as usize],
                rng.below(16)
            ),
            8 => format!(
                "if w{d} {} {imm} goto -{}",
                CMP[rng.below(CMP.len() as u64) as usize],
                rng.below(16)
            ),
            9 => format!("r{d} = {:#x} ll", rng.next()),
            10 => format!("lock *(u64 *)(r{d} + {}) += r{s}", off.abs()),
            11 => format!("r{d} = (s16)r{s}"),
            12 => format!("r{d} = *(s32 *)(r{s} + {})", off.abs()),
            13 => format!("r{d} = bswap32 r{d}"),
            14 => format!("call {}", 1 + rng.below(200)),
            _ => format!("goto +{}", rng.below(16)),
        };
        out.push_str(&line);
        out.push('\n');
        i += 1;
    }
    out.push_str("exit\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn deterministic_and_sized() {
        let a = super::llvm_program(1000, 7);
        assert_eq!(a, super::llvm_program(1000, 7));
        assert_eq!(a.lines().count(), 1000);
        assert!(a.ends_with("exit\n"));
    }
}
