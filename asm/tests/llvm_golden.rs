//! Golden tables for the LLVM dialect: text ⇄ bytes both ways.
//!
//! `LLVM` rows were produced by llvm-mc-19 (`-triple bpfel -mcpu=v4`) and
//! llvm-objdump-19 (`-d --mcpu=v4`): (what we wrote, the bytes llvm-mc emitted, the text
//! objdump printed for those bytes, without the `<.text+0x..>` annotation). bpfx must
//! assemble the first column to the same bytes and print the bytes as the third column.

use asm::insn::decode;
use asm::text::{assemble, kernel, llvm, Dialect};

use test_support::hex;

fn bytes_of(text: &str) -> Vec<u8> {
    match assemble(text, Dialect::Llvm) {
        Ok(a) => a.bytes(),
        Err(e) => panic!("{text:?} does not assemble: {e:?}"),
    }
}

fn one(bytes: &[u8]) -> asm::Insn {
    let d = decode(bytes).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"));
    assert_eq!(d.len(), 1);
    d[0].insn
}

const LLVM: &[(&str, &str, &str)] = &[
    ("r0 += r1", "0f10000000000000", "r0 += r1"),
    ("r3 -= r4", "1f43000000000000", "r3 -= r4"),
    ("r5 *= r6", "2f65000000000000", "r5 *= r6"),
    ("r7 /= r8", "3f87000000000000", "r7 /= r8"),
    ("r9 |= r10", "4fa9000000000000", "r9 |= r10"),
    ("r1 &= r2", "5f21000000000000", "r1 &= r2"),
    ("r1 <<= r2", "6f21000000000000", "r1 <<= r2"),
    ("r1 >>= r2", "7f21000000000000", "r1 >>= r2"),
    ("r1 %= r2", "9f21000000000000", "r1 %= r2"),
    ("r1 ^= r2", "af21000000000000", "r1 ^= r2"),
    ("r1 = r2", "bf21000000000000", "r1 = r2"),
    ("r1 s>>= r2", "cf21000000000000", "r1 s>>= r2"),
    ("r1 s/= r2", "3f21010000000000", "r1 s/= r2"),
    ("r1 s%= r2", "9f21010000000000", "r1 s%= r2"),
    ("r1 += 1", "0701000001000000", "r1 += 0x1"),
    ("r1 -= -1", "17010000ffffffff", "r1 -= -0x1"),
    ("r1 *= 0x7fffffff", "27010000ffffff7f", "r1 *= 0x7fffffff"),
    ("r1 /= 0xffffffff", "37010000ffffffff", "r1 /= -0x1"),
    ("r1 |= -2147483648", "4701000000000080", "r1 |= -0x80000000"),
    ("r1 &= 0x80000000", "5701000000000080", "r1 &= -0x80000000"),
    ("r1 <<= 63", "670100003f000000", "r1 <<= 0x3f"),
    ("r1 >>= 1", "7701000001000000", "r1 >>= 0x1"),
    ("r1 %= 7", "9701000007000000", "r1 %= 0x7"),
    ("r1 ^= 0x55", "a701000055000000", "r1 ^= 0x55"),
    ("r1 = 0", "b701000000000000", "r1 = 0x0"),
    ("r1 s>>= 3", "c701000003000000", "r1 s>>= 0x3"),
    ("r1 s/= -3", "37010100fdffffff", "r1 s/= -0x3"),
    ("r1 s%= 3", "9701010003000000", "r1 s%= 0x3"),
    ("w0 += w1", "0c10000000000000", "w0 += w1"),
    ("w3 -= w4", "1c43000000000000", "w3 -= w4"),
    ("w5 *= w6", "2c65000000000000", "w5 *= w6"),
    ("w7 /= w8", "3c87000000000000", "w7 /= w8"),
    ("w9 |= w10", "4ca9000000000000", "w9 |= w10"),
    ("w1 &= w2", "5c21000000000000", "w1 &= w2"),
    ("w1 <<= w2", "6c21000000000000", "w1 <<= w2"),
    ("w1 >>= w2", "7c21000000000000", "w1 >>= w2"),
    ("w1 %= w2", "9c21000000000000", "w1 %= w2"),
    ("w1 ^= w2", "ac21000000000000", "w1 ^= w2"),
    ("w1 = w2", "bc21000000000000", "w1 = w2"),
    ("w1 s>>= w2", "cc21000000000000", "w1 s>>= w2"),
    ("w1 s/= w2", "3c21010000000000", "w1 s/= w2"),
    ("w1 s%= w2", "9c21010000000000", "w1 s%= w2"),
    ("w1 += 1", "0401000001000000", "w1 += 0x1"),
    ("w1 -= -1", "14010000ffffffff", "w1 -= -0x1"),
    ("w1 = 0xffffffff", "b4010000ffffffff", "w1 = -0x1"),
    ("w1 s/= 3", "3401010003000000", "w1 s/= 0x3"),
    ("w1 s%= -3", "94010100fdffffff", "w1 s%= -0x3"),
    ("r0 = -r0", "8700000000000000", "r0 = -r0"),
    ("w7 = -w7", "8407000000000000", "w7 = -w7"),
    ("r0 = (s8)r1", "bf10080000000000", "r0 = (s8)r1"),
    ("r0 = (s16)r1", "bf10100000000000", "r0 = (s16)r1"),
    ("r0 = (s32)r1", "bf10200000000000", "r0 = (s32)r1"),
    ("w0 = (s8)w1", "bc10080000000000", "w0 = (s8)w1"),
    ("w0 = (s16)w1", "bc10100000000000", "w0 = (s16)w1"),
    ("r0 = be16 r0", "dc00000010000000", "r0 = be16 r0"),
    ("r1 = be32 r1", "dc01000020000000", "r1 = be32 r1"),
    ("r2 = be64 r2", "dc02000040000000", "r2 = be64 r2"),
    ("r0 = le16 r0", "d400000010000000", "r0 = le16 r0"),
    ("r1 = le32 r1", "d401000020000000", "r1 = le32 r1"),
    ("r2 = le64 r2", "d402000040000000", "r2 = le64 r2"),
    ("r0 = bswap16 r0", "d700000010000000", "r0 = bswap16 r0"),
    ("r1 = bswap32 r1", "d701000020000000", "r1 = bswap32 r1"),
    ("r2 = bswap64 r2", "d702000040000000", "r2 = bswap64 r2"),
    (
        "r0 = addr_space_cast(r1, 1, 0)",
        "bf10010000000100",
        "r0 = addr_space_cast(r1, 0x1, 0x0)",
    ),
    (
        "r3 = addr_space_cast(r4, 0, 1)",
        "bf43010001000000",
        "r3 = addr_space_cast(r4, 0x0, 0x1)",
    ),
    (
        "r0 = *(u8 *)(r1 + 0)",
        "7110000000000000",
        "w0 = *(u8 *)(r1 + 0x0)",
    ),
    (
        "r0 = *(u16 *)(r1 - 2)",
        "6910feff00000000",
        "w0 = *(u16 *)(r1 - 0x2)",
    ),
    (
        "r0 = *(u32 *)(r1 + 4)",
        "6110040000000000",
        "w0 = *(u32 *)(r1 + 0x4)",
    ),
    (
        "r0 = *(u64 *)(r10 - 8)",
        "79a0f8ff00000000",
        "r0 = *(u64 *)(r10 - 0x8)",
    ),
    (
        "w0 = *(u8 *)(r1 + 32767)",
        "7110ff7f00000000",
        "w0 = *(u8 *)(r1 + 0x7fff)",
    ),
    (
        "w0 = *(u16 *)(r1 - 32768)",
        "6910008000000000",
        "w0 = *(u16 *)(r1 - 0x8000)",
    ),
    (
        "w0 = *(u32 *)(r1 + 0x10)",
        "6110100000000000",
        "w0 = *(u32 *)(r1 + 0x10)",
    ),
    (
        "r0 = *(s8 *)(r1 + 0)",
        "9110000000000000",
        "r0 = *(s8 *)(r1 + 0x0)",
    ),
    (
        "r0 = *(s16 *)(r1 - 1)",
        "8910ffff00000000",
        "r0 = *(s16 *)(r1 - 0x1)",
    ),
    (
        "r0 = *(s32 *)(r1 + 1)",
        "8110010000000000",
        "r0 = *(s32 *)(r1 + 0x1)",
    ),
    (
        "*(u8 *)(r1 + 0) = w2",
        "7321000000000000",
        "*(u8 *)(r1 + 0x0) = w2",
    ),
    (
        "*(u16 *)(r1 - 2) = w2",
        "6b21feff00000000",
        "*(u16 *)(r1 - 0x2) = w2",
    ),
    (
        "*(u32 *)(r1 + 4) = w2",
        "6321040000000000",
        "*(u32 *)(r1 + 0x4) = w2",
    ),
    (
        "*(u64 *)(r10 - 8) = r2",
        "7b2af8ff00000000",
        "*(u64 *)(r10 - 0x8) = r2",
    ),
    (
        "*(u16 *)(r1 + 2) = r3",
        "6b31020000000000",
        "*(u16 *)(r1 + 0x2) = w3",
    ),
    (
        "*(u8 *)(r1 + 0) = 5",
        "7201000005000000",
        "*(u8 *)(r1 + 0x0) = 0x5",
    ),
    (
        "*(u16 *)(r1 + 2) = -1",
        "6a010200ffffffff",
        "*(u16 *)(r1 + 0x2) = -0x1",
    ),
    (
        "*(u32 *)(r1 + 4) = 0x7fffffff",
        "62010400ffffff7f",
        "*(u32 *)(r1 + 0x4) = 0x7fffffff",
    ),
    (
        "*(u64 *)(r10 - 8) = -2147483648",
        "7a0af8ff00000080",
        "*(u64 *)(r10 - 0x8) = -0x80000000",
    ),
    (
        "lock *(u32 *)(r1 + 0) += w2",
        "c321000000000000",
        "lock *(u32 *)(r1 + 0x0) += w2",
    ),
    (
        "lock *(u32 *)(r1 + 4) |= w2",
        "c321040040000000",
        "lock *(u32 *)(r1 + 0x4) |= w2",
    ),
    (
        "lock *(u32 *)(r1 - 4) &= w2",
        "c321fcff50000000",
        "lock *(u32 *)(r1 - 0x4) &= w2",
    ),
    (
        "lock *(u32 *)(r1 + 0) ^= w2",
        "c3210000a0000000",
        "lock *(u32 *)(r1 + 0x0) ^= w2",
    ),
    (
        "lock *(u64 *)(r1 + 0) += r2",
        "db21000000000000",
        "lock *(u64 *)(r1 + 0x0) += r2",
    ),
    (
        "lock *(u64 *)(r1 + 8) |= r2",
        "db21080040000000",
        "lock *(u64 *)(r1 + 0x8) |= r2",
    ),
    (
        "lock *(u64 *)(r1 - 8) &= r2",
        "db21f8ff50000000",
        "lock *(u64 *)(r1 - 0x8) &= r2",
    ),
    (
        "lock *(u64 *)(r1 + 0) ^= r2",
        "db210000a0000000",
        "lock *(u64 *)(r1 + 0x0) ^= r2",
    ),
    (
        "w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)",
        "c321000001000000",
        "w2 = atomic_fetch_add((u32 *)(r1 + 0x0), w2)",
    ),
    (
        "w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)",
        "c321000041000000",
        "w2 = atomic_fetch_or((u32 *)(r1 + 0x0), w2)",
    ),
    (
        "w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)",
        "c321000051000000",
        "w2 = atomic_fetch_and((u32 *)(r1 + 0x0), w2)",
    ),
    (
        "w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)",
        "c3210000a1000000",
        "w2 = atomic_fetch_xor((u32 *)(r1 + 0x0), w2)",
    ),
    (
        "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)",
        "db21000001000000",
        "r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)",
    ),
    (
        "r2 = atomic_fetch_or((u64 *)(r1 - 16), r2)",
        "db21f0ff41000000",
        "r2 = atomic_fetch_or((u64 *)(r1 - 0x10), r2)",
    ),
    (
        "r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)",
        "db21000051000000",
        "r2 = atomic_fetch_and((u64 *)(r1 + 0x0), r2)",
    ),
    (
        "r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)",
        "db210000a1000000",
        "r2 = atomic_fetch_xor((u64 *)(r1 + 0x0), r2)",
    ),
    (
        "w2 = xchg32_32(r1 + 0, w2)",
        "c3210000e1000000",
        "w2 = xchg32_32(r1 + 0x0, w2)",
    ),
    (
        "r2 = xchg_64(r1 + 8, r2)",
        "db210800e1000000",
        "r2 = xchg_64(r1 + 0x8, r2)",
    ),
    (
        "w0 = cmpxchg32_32(r1 + 0, w0, w2)",
        "c3210000f1000000",
        "w0 = cmpxchg32_32(r1 + 0x0, w0, w2)",
    ),
    (
        "r0 = cmpxchg_64(r1 - 8, r0, r2)",
        "db21f8fff1000000",
        "r0 = cmpxchg_64(r1 - 0x8, r0, r2)",
    ),
    (
        "r0 = *(u8 *)skb[4]",
        "3000000004000000",
        "r0 = *(u8 *)skb[0x4]",
    ),
    (
        "r0 = *(u16 *)skb[0x10]",
        "2800000010000000",
        "r0 = *(u16 *)skb[0x10]",
    ),
    (
        "r0 = *(u32 *)skb[-1]",
        "20000000ffffffff",
        "r0 = *(u32 *)skb[-0x1]",
    ),
    (
        "r0 = *(u8 *)skb[r1]",
        "5010000000000000",
        "r0 = *(u8 *)skb[r1]",
    ),
    (
        "r0 = *(u16 *)skb[r2]",
        "4820000000000000",
        "r0 = *(u16 *)skb[r2]",
    ),
    (
        "r0 = *(u32 *)skb[r3]",
        "4030000000000000",
        "r0 = *(u32 *)skb[r3]",
    ),
    (
        "r1 = 0x1234 ll",
        "18010000341200000000000000000000",
        "r1 = 0x1234 ll",
    ),
    (
        "r0 = -1 ll",
        "18000000ffffffff00000000ffffffff",
        "r0 = -0x1 ll",
    ),
    (
        "r9 = 0x8000000000000000 ll",
        "18090000000000000000000000000080",
        "r9 = -0x8000000000000000 ll",
    ),
    (
        "r2 = 0x7fffffffffffffff ll",
        "18020000ffffffff00000000ffffff7f",
        "r2 = 0x7fffffffffffffff ll",
    ),
    (
        "r3 = 0xffffffff ll",
        "18030000ffffffff0000000000000000",
        "r3 = 0xffffffff ll",
    ),
    (
        "ld_pseudo r1, 1, 5",
        "18110000050000000000000000000000",
        "ld_pseudo\tr1, 0x1, 0x5",
    ),
    (
        "ld_pseudo r2, 2, 0xffffffff",
        "18220000ffffffff0000000000000000",
        "ld_pseudo\tr2, 0x2, 0xffffffff",
    ),
    (
        "ld_pseudo r3, 3, 7",
        "18330000070000000000000000000000",
        "ld_pseudo\tr3, 0x3, 0x7",
    ),
    (
        "ld_pseudo r4, 4, 3",
        "18440000030000000000000000000000",
        "ld_pseudo\tr4, 0x4, 0x3",
    ),
    (
        "ld_pseudo r5, 5, 0",
        "18550000000000000000000000000000",
        "ld_pseudo\tr5, 0x5, 0x0",
    ),
    (
        "ld_pseudo r6, 6, 1",
        "18660000010000000000000000000000",
        "ld_pseudo\tr6, 0x6, 0x1",
    ),
    (
        "if r1 == r2 goto +1",
        "1d21010000000000",
        "if r1 == r2 goto +0x1",
    ),
    (
        "if r1 != 3 goto -1",
        "5501ffff03000000",
        "if r1 != 0x3 goto -0x1",
    ),
    (
        "if r1 > r2 goto +0",
        "2d21000000000000",
        "if r1 > r2 goto +0x0",
    ),
    (
        "if r1 >= 16 goto +32767",
        "3501ff7f10000000",
        "if r1 >= 0x10 goto +0x7fff",
    ),
    (
        "if r1 < r2 goto -32768",
        "ad21008000000000",
        "if r1 < r2 goto -0x8000",
    ),
    (
        "if r1 <= -5 goto +2",
        "b5010200fbffffff",
        "if r1 <= -0x5 goto +0x2",
    ),
    (
        "if r1 s> r2 goto +3",
        "6d21030000000000",
        "if r1 s> r2 goto +0x3",
    ),
    (
        "if r1 s>= 0x7fffffff goto +3",
        "75010300ffffff7f",
        "if r1 s>= 0x7fffffff goto +0x3",
    ),
    (
        "if r1 s< r2 goto +3",
        "cd21030000000000",
        "if r1 s< r2 goto +0x3",
    ),
    (
        "if r1 s<= 3 goto +3",
        "d501030003000000",
        "if r1 s<= 0x3 goto +0x3",
    ),
    (
        "if r1 & r2 goto +3",
        "4d21030000000000",
        "if r1 & r2 goto +0x3",
    ),
    (
        "if r1 & 0x8 goto +1",
        "4501010008000000",
        "if r1 & 0x8 goto +0x1",
    ),
    (
        "if w1 == w2 goto +1",
        "1e21010000000000",
        "if w1 == w2 goto +0x1",
    ),
    (
        "if w1 != 3 goto -1",
        "5601ffff03000000",
        "if w1 != 0x3 goto -0x1",
    ),
    (
        "if w1 > w2 goto +0",
        "2e21000000000000",
        "if w1 > w2 goto +0x0",
    ),
    (
        "if w1 >= 16 goto +1",
        "3601010010000000",
        "if w1 >= 0x10 goto +0x1",
    ),
    (
        "if w1 < w2 goto -2",
        "ae21feff00000000",
        "if w1 < w2 goto -0x2",
    ),
    (
        "if w1 <= -5 goto +2",
        "b6010200fbffffff",
        "if w1 <= -0x5 goto +0x2",
    ),
    (
        "if w1 s> w2 goto +3",
        "6e21030000000000",
        "if w1 s> w2 goto +0x3",
    ),
    (
        "if w1 s>= 0xfffffff0 goto +3",
        "76010300f0ffffff",
        "if w1 s>= -0x10 goto +0x3",
    ),
    (
        "if w1 s< w2 goto +3",
        "ce21030000000000",
        "if w1 s< w2 goto +0x3",
    ),
    (
        "if w1 s<= 3 goto +3",
        "d601030003000000",
        "if w1 s<= 0x3 goto +0x3",
    ),
    (
        "if w1 & w2 goto +3",
        "4e21030000000000",
        "if w1 & w2 goto +0x3",
    ),
    (
        "if w1 & 1 goto +1",
        "4601010001000000",
        "if w1 & 0x1 goto +0x1",
    ),
    ("goto +3", "0500030000000000", "goto +0x3"),
    ("goto -1", "0500ffff00000000", "goto -0x1"),
    ("gotol +5", "0600000005000000", "gotol +0x5"),
    ("gotol -32768", "060000000080ffff", "gotol -0x8000"),
    ("may_goto +3", "e500030000000000", "may_goto +0x3"),
    ("call 1", "8500000001000000", "call 0x1"),
    ("call 211", "85000000d3000000", "call 0xd3"),
    ("call -1", "85000000ffffffff", "call -0x1"),
    ("callx r2", "8d02000000000000", "callx r2"),
    ("exit", "9500000000000000", "exit"),
];

#[test]
fn llvm_mc_bytes_and_objdump_text() {
    for &(input, bytes, printed) in LLVM {
        let want = hex(bytes);
        assert_eq!(bytes_of(input), want, "assembling {input:?}");
        let insn = one(&want);
        assert_eq!(llvm::print(&insn), printed, "printing {bytes}");
        // objdump's text reassembles to the same bytes.
        assert_eq!(bytes_of(printed), want, "reassembling {printed:?}");
    }
}

/// Spellings llvm-mc 19 cannot read (bpfx extensions, verifier-log forms) with bytes
/// from the kernel's encoding (`include/uapi/linux/bpf.h`), and how bpfx prints them.
const EXTENSIONS: &[(&str, &str, &str)] = &[
    // Load-acquire / store-release: BPF_STX | BPF_ATOMIC, imm 0x100 / 0x110 (LLVM 21 syntax).
    (
        "w0 = load_acquire((u8 *)(r1 + 0))",
        "d310000000010000",
        "w0 = load_acquire((u8 *)(r1 + 0x0))",
    ),
    (
        "w3 = load_acquire((u16 *)(r2 - 4))",
        "cb23fcff00010000",
        "w3 = load_acquire((u16 *)(r2 - 0x4))",
    ),
    (
        "w3 = load_acquire((u32 *)(r2 + 8))",
        "c323080000010000",
        "w3 = load_acquire((u32 *)(r2 + 0x8))",
    ),
    (
        "r0 = load_acquire((u64 *)(r1 + 0))",
        "db10000000010000",
        "r0 = load_acquire((u64 *)(r1 + 0x0))",
    ),
    (
        "store_release((u8 *)(r1 + 0), w2)",
        "d321000010010000",
        "store_release((u8 *)(r1 + 0x0), w2)",
    ),
    (
        "store_release((u64 *)(r1 - 8), r2)",
        "db21f8ff10010000",
        "store_release((u64 *)(r1 - 0x8), r2)",
    ),
    // lddw with a pseudo source and a second-slot value (objdump's ld_pseudo drops it).
    (
        "r1 = map_value(5, 16) ll",
        "18210000050000000000000010000000",
        "r1 = map_value(5, 16) ll",
    ),
    (
        "r1 = map_idx_value(0, 8) ll",
        "18610000000000000000000008000000",
        "r1 = map_idx_value(0, 8) ll",
    ),
    (
        "r1 = func(-3, 1) ll",
        "18410000fdffffff0000000001000000",
        "r1 = func(-3, 1) ll",
    ),
    // Without a second value these print as objdump does.
    (
        "r1 = map_fd(5) ll",
        "18110000050000000000000000000000",
        "ld_pseudo\tr1, 0x1, 0x5",
    ),
    (
        "r1 = btf_id(7) ll",
        "18310000070000000000000000000000",
        "ld_pseudo\tr1, 0x3, 0x7",
    ),
    (
        "r1 = func(+3) ll",
        "18410000030000000000000000000000",
        "ld_pseudo\tr1, 0x4, 0x3",
    ),
    (
        "r1 = map_idx(0) ll",
        "18510000000000000000000000000000",
        "ld_pseudo\tr1, 0x5, 0x0",
    ),
    (
        "r1 = map_fd(12) ll",
        "181100000c0000000000000000000000",
        "ld_pseudo\tr1, 0x1, 0xc",
    ),
    // Local and kfunc calls (objdump prints `call 0x3` for both, which means a helper).
    ("call pc+3", "8510000003000000", "call pc+0x3"),
    ("call pc-1", "85100000ffffffff", "call pc-0x1"),
    ("call kfunc 1234", "85200000d2040000", "call kfunc 0x4d2"),
    (
        "call kernel-function#1234",
        "85200000d2040000",
        "call kfunc 0x4d2",
    ),
    // Indirect packet load with an offset (objdump prints `skb[r1]`).
    (
        "r0 = *(u8 *)skb[r1 + 4]",
        "5010000004000000",
        "r0 = *(u8 *)skb[r1 + 0x4]",
    ),
    (
        "r0 = *(u32 *)skb[r1 + -4]",
        "40100000fcffffff",
        "r0 = *(u32 *)skb[r1 - 0x4]",
    ),
    // Verifier-log spellings.
    ("goto pc+3", "0500030000000000", "goto +0x3"),
    (
        "if r1 > 0x10 goto pc-2",
        "2501feff10000000",
        "if r1 > 0x10 goto -0x2",
    ),
    ("call bpf_map_lookup_elem#1", "8500000001000000", "call 0x1"),
    ("call unknown#300", "850000002c010000", "call 0x12c"),
    (
        "r0 = *(u32 *)(r1 +4)",
        "6110040000000000",
        "w0 = *(u32 *)(r1 + 0x4)",
    ),
    (
        "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
        "db21000001000000",
        "r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)",
    ),
    (
        "r2 = atomic_fetch_or((u32 *)(r1 -8), r2)",
        "c321f8ff41000000",
        "w2 = atomic_fetch_or((u32 *)(r1 - 0x8), w2)",
    ),
    (
        "r2 = atomic64_xchg((u64 *)(r1 +0), r2)",
        "db210000e1000000",
        "r2 = xchg_64(r1 + 0x0, r2)",
    ),
    (
        "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)",
        "c3210000f1000000",
        "w0 = cmpxchg32_32(r1 + 0x0, w0, w2)",
    ),
    ("0: (b7) r0 = 1", "b700000001000000", "r0 = 0x1"),
    (
        "12: (18) r1 = 0x123456789",
        "18010000896745230000000001000000",
        "r1 = 0x123456789 ll",
    ),
    (
        "(18) r1 = 0xffffffffffffffff",
        "18010000ffffffff00000000ffffffff",
        "r1 = -0x1 ll",
    ),
    ("(85) call pc+3", "8510000003000000", "call pc+0x3"),
    // Hand-writer conveniences.
    ("call bpf_trace_printk", "8500000006000000", "call 0x6"),
    ("call get_current_pid_tgid", "850000000e000000", "call 0xe"),
    ("r0 = 010", "b700000008000000", "r0 = 0x8"),
    ("r0 = 0b101", "b700000005000000", "r0 = 0x5"),
    (
        "r0 = *(u32 *)(r1)",
        "6110000000000000",
        "w0 = *(u32 *)(r1 + 0x0)",
    ),
    ("R0 = 1", "b700000001000000", "r0 = 0x1"),
];

#[test]
fn extensions_and_kernel_spellings() {
    for &(input, bytes, printed) in EXTENSIONS {
        let want = hex(bytes);
        assert_eq!(bytes_of(input), want, "assembling {input:?}");
        let insn = one(&want);
        assert_eq!(llvm::print(&insn), printed, "printing {bytes}");
        assert_eq!(bytes_of(printed), want, "reassembling {printed:?}");
    }
}

/// The kernel's spelling (`print_bpf_insn` in kernel/bpf/disasm.c) of encodings, with
/// the `(xx)` opcode column.
const KERNEL: &[(&str, &str)] = &[
    ("b700000001000000", "(b7) r0 = 1"),
    ("b4000000ffffffff", "(b4) w0 = -1"),
    ("0c10000000000000", "(0c) w0 += w1"),
    ("3f21010000000000", "(3f) r1 s/= r2"),
    ("9401010003000000", "(94) w1 s%= 3"),
    ("bf10080000000000", "(bf) r0 = (s8)r1"),
    ("bc10100000000000", "(bc) w0 = (s16)w1"),
    ("8700000000000000", "(87) r0 = -r0"),
    ("dc00000010000000", "(dc) r0 = be16 r0"),
    ("d400000040000000", "(d4) r0 = le64 r0"),
    ("d700000020000000", "(d7) r0 = bswap32 r0"),
    ("bf10010000000100", "(bf) r0 = addr_space_cast(r1, 1, 0)"),
    ("6110040000000000", "(61) r0 = *(u32 *)(r1 +4)"),
    ("7110feff00000000", "(71) r0 = *(u8 *)(r1 -2)"),
    ("8910000000000000", "(89) r0 = *(s16 *)(r1 +0)"),
    ("7b1af8ff00000000", "(7b) *(u64 *)(r10 -8) = r1"),
    ("6321000000000000", "(63) *(u32 *)(r1 +0) = r2"),
    ("7201000005000000", "(72) *(u8 *)(r1 +0) = 5"),
    ("db21000000000000", "(db) lock *(u64 *)(r1 +0) += r2"),
    ("c321000040000000", "(c3) lock *(u32 *)(r1 +0) |= r2"),
    (
        "db21000001000000",
        "(db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
    ),
    (
        "c321000051000000",
        "(c3) r2 = atomic_fetch_and((u32 *)(r1 +0), r2)",
    ),
    (
        "db210000e1000000",
        "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)",
    ),
    (
        "c3210000f1000000",
        "(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)",
    ),
    ("d310000000010000", "(d3) r0 = load_acquire((u8 *)(r1 +0))"),
    ("db21f8ff10010000", "(db) store_release((u64 *)(r1 -8), r2)"),
    ("3000000004000000", "(30) r0 = *(u8 *)skb[4]"),
    ("4810000000000000", "(48) r0 = *(u16 *)skb[r1 + 0]"),
    ("18010000341200000000000000000000", "(18) r1 = 0x1234"),
    (
        "18010000ffffffff00000000ffffffff",
        "(18) r1 = 0xffffffffffffffff",
    ),
    ("18110000050000000000000000000000", "(18) r1 = map_fd(5) ll"),
    (
        "18210000050000000000000010000000",
        "(18) r1 = map_value(5, 16) ll",
    ),
    ("18410000030000000000000000000000", "(18) r1 = func(+3) ll"),
    ("2501030010000000", "(25) if r1 > 0x10 goto pc+3"),
    ("1501ffffffffffff", "(15) if r1 == 0xffffffff goto pc-1"),
    ("ce21ffff00000000", "(ce) if w1 s< w2 goto pc-1"),
    ("0500030000000000", "(05) goto pc+3"),
    ("0600000005000000", "(06) gotol pc+5"),
    ("e500030000000000", "(e5) may_goto pc+3"),
    ("8500000001000000", "(85) call bpf_map_lookup_elem#1"),
    ("85000000d3000000", "(85) call bpf_cgrp_storage_delete#211"),
    ("85000000d4000000", "(85) call unknown#212"),
    ("8510000003000000", "(85) call pc+3"),
    ("85100000ffffffff", "(85) call pc-1"),
    ("85200000d2040000", "(85) call kernel-function#1234"),
    ("9500000000000000", "(95) exit"),
];

#[test]
fn kernel_spelling_and_back() {
    for &(bytes, text) in KERNEL {
        let want = hex(bytes);
        let insn = one(&want);
        assert_eq!(kernel::print(&insn), text, "printing {bytes}");
        assert_eq!(bytes_of(text), want, "reassembling {text:?}");
    }
}

/// Spacing and spellings llvm-mc-19 accepts, with the bytes it produced for them.
const SPACING: &[(&str, &str)] = &[
    ("r0=*(u32*)(r1+4)", "6110040000000000"),
    ("w0=*(u8*)(r1-2)", "7110feff00000000"),
    ("*(u32*)(r1+4)=w2", "6321040000000000"),
    ("*(u8 *)(r1+0)=5", "7201000005000000"),
    ("lock *(u32*)(r1+0)+=w2", "c321000000000000"),
    ("r2=atomic_fetch_add((u64*)(r1+0),r2)", "db21000001000000"),
    ("w2=xchg32_32(r1+0,w2)", "c3210000e1000000"),
    ("r0=cmpxchg_64(r1+0,r0,r2)", "db210000f1000000"),
    ("r0=*(u8*)skb[4]", "3000000004000000"),
    ("r0=*(u16*)skb[r1]", "4810000000000000"),
    ("if r1>2 goto+3", "2501030002000000"),
    ("if w1 s<w2 goto -1", "ce21ffff00000000"),
    ("r0=-r0", "8700000000000000"),
    ("r0=(s8)r1", "bf10080000000000"),
    ("r1=0x1234 ll", "18010000341200000000000000000000"),
    ("r0 = addr_space_cast(r1,1,0)", "bf10010000000100"),
    ("r0 =\t1", "b700000001000000"),
    ("\t  exit", "9500000000000000"),
    ("r0 = *( u32 * )( r1 + 4 )", "6110040000000000"),
    ("r0 = 0x7FFFFFFF", "b7000000ffffff7f"),
    ("r0=r1;r1=r2", "bf10000000000000bf21000000000000"),
    ("w1 s/=3", "3401010003000000"),
    ("r1 s%=r2", "9f21010000000000"),
    ("r0 = +5", "b700000005000000"),
    ("goto 3", "0500030000000000"),
    ("if r1 > 2 goto 3", "2501030002000000"),
];

#[test]
fn llvm_mc_spacing_variants() {
    for &(input, bytes) in SPACING {
        assert_eq!(bytes_of(input), hex(bytes), "assembling {input:?}");
    }
}
