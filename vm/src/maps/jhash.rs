//! Bob Jenkins' lookup3 hash as the kernel spells it (`include/linux/jhash.h`): the bloom
//! filter's and the stack trace map's hash, so that a seed gives the kernel's bits and
//! bucket ids.

const JHASH_INITVAL: u32 = 0xdead_beef;

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    // __jhash_mix
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn fin(a: &mut u32, b: &mut u32, c: &mut u32) {
    // __jhash_final
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// `jhash(key, length, initval)`: bytes, read as little-endian words (the kernel's
/// `get_unaligned` on x86-64).
pub(crate) fn jhash(key: &[u8], initval: u32) -> u32 {
    let init = JHASH_INITVAL
        .wrapping_add(key.len() as u32)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let word = |k: &[u8], i: usize| u32::from_le_bytes([k[i], k[i + 1], k[i + 2], k[i + 3]]);
    let mut k = key;
    while k.len() > 12 {
        a = a.wrapping_add(word(k, 0));
        b = b.wrapping_add(word(k, 4));
        c = c.wrapping_add(word(k, 8));
        mix(&mut a, &mut b, &mut c);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    // The tail: byte i goes to word i / 4 at bit 8 * (i % 4), as the switch's fall-through.
    let mut tail = [0u32; 3];
    for (i, &byte) in k.iter().enumerate() {
        tail[i / 4] = tail[i / 4].wrapping_add((byte as u32) << (8 * (i % 4)));
    }
    a = a.wrapping_add(tail[0]);
    b = b.wrapping_add(tail[1]);
    c = c.wrapping_add(tail[2]);
    fin(&mut a, &mut b, &mut c);
    c
}

/// `jhash2(k, length, initval)`: `words` 32-bit words.
pub(crate) fn jhash2(words: &[u32], initval: u32) -> u32 {
    let init = JHASH_INITVAL
        .wrapping_add((words.len() as u32) << 2)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut k = words;
    while k.len() > 3 {
        a = a.wrapping_add(k[0]);
        b = b.wrapping_add(k[1]);
        c = c.wrapping_add(k[2]);
        mix(&mut a, &mut b, &mut c);
        k = &k[3..];
    }
    if k.is_empty() {
        return c;
    }
    a = a.wrapping_add(k[0]);
    if let Some(&w) = k.get(1) {
        b = b.wrapping_add(w);
    }
    if let Some(&w) = k.get(2) {
        c = c.wrapping_add(w);
    }
    fin(&mut a, &mut b, &mut c);
    c
}

/// The words of `bytes` (a multiple of 4 long), little-endian.
pub(crate) fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jhash2_of_words_is_jhash_of_their_bytes() {
        // lookup3: hashword and hashlittle agree on little-endian machines for whole words.
        let w = [1u32, 2, 3, 4, 5, 0xdead_beef, 7];
        let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        for n in 0..=w.len() {
            assert_eq!(jhash2(&w[..n], 9), jhash(&bytes[..4 * n], 9), "{n} words");
        }
        // lookup3's published check value: hashlittle("", 0) = 0xdeadbeef.
        assert_eq!(jhash(b"", 0), 0xdead_beef);
        // hashlittle("Four score and seven years ago", 0) = 0x17770551.
        assert_eq!(jhash(b"Four score and seven years ago", 0), 0x1777_0551);
    }
}
