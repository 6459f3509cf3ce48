//! String helpers: `bpf_strtol`, `bpf_strtoul`, `bpf_strncmp` (kernel/bpf/helpers.c) and the
//! formatted-output helpers `bpf_snprintf` and `bpf_trace_vprintk`, which share the format
//! rules of `bpf_bprintf_prepare` with `bpf_trace_printk` (see `crate::printk`).

use super::{errno, HelperFn, EINVAL};
use crate::error::HelperError;
use crate::machine::Machine;

const ERANGE: u64 = errno(34);
/// `BPF_STRTOX_BASE_MASK`.
const BASE_MASK: u64 = 0x1f;
/// `MAX_BPRINTF_VARARGS`: `bpf_snprintf` and `bpf_trace_vprintk` take at most 12 arguments.
pub(crate) const MAX_VARARGS: u32 = 12;

/// The kernel's `isspace` (lib/ctype.c: the ASCII blanks and the Latin-1 no-break space).
fn kernel_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0)
}

/// `__bpf_strtoull`: `(value, negative, bytes consumed)` or the negative errno.
fn strtoull(buf: &[u8], flags: u64) -> Result<(u64, bool, usize), u64> {
    let mut base = (flags & BASE_MASK) as u32;
    if buf.is_empty() || ![0, 8, 10, 16].contains(&base) || flags & !BASE_MASK != 0 {
        return Err(EINVAL);
    }
    let mut i = buf.iter().take_while(|&&c| kernel_isspace(c)).count();
    let negative = buf.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let consumed = i;
    if consumed == buf.len() {
        return Err(EINVAL);
    }
    // At most 63 bytes are parsed, from a NUL-terminated copy.
    let s: Vec<u8> = buf[i..].iter().take(63).copied().collect();
    let at = |k: usize| s.get(k).copied().unwrap_or(0);
    // _parse_integer_fixup_radix (lib/kstrtox.c).
    if base == 0 {
        base = if at(0) == b'0' {
            if at(1).eq_ignore_ascii_case(&b'x') && at(2).is_ascii_hexdigit() {
                16
            } else {
                8
            }
        } else {
            10
        };
    }
    let mut p = 0;
    if base == 16 && at(0) == b'0' && at(1).eq_ignore_ascii_case(&b'x') {
        p = 2;
    }
    // _parse_integer.
    let (mut res, mut digits, mut overflow) = (0u64, 0usize, false);
    loop {
        let c = at(p + digits);
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'a'..=b'f' | b'A'..=b'F' => (c.to_ascii_lowercase() - b'a') as u32 + 10,
            _ => break,
        };
        if v >= base {
            break;
        }
        match res
            .checked_mul(base as u64)
            .and_then(|r| r.checked_add(v as u64))
        {
            Some(r) => res = r,
            None => {
                overflow = true;
                res = res.wrapping_mul(base as u64).wrapping_add(v as u64);
            }
        }
        digits += 1;
    }
    if overflow {
        return Err(ERANGE);
    }
    if digits == 0 {
        return Err(EINVAL);
    }
    Ok((res, negative, consumed + p + digits))
}

/// `bpf_strtol(buf, buf_len, flags, res)`: `*res` is zeroed first, as in the kernel.
fn strtol(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let buf = m.read_vec(a[0], a[1] as u32 as usize)?;
    m.write(a[3], &0u64.to_le_bytes())?;
    let (v, negative, n) = match strtoull(&buf, a[2]) {
        Ok(x) => x,
        Err(e) => return Ok(e),
    };
    // __bpf_strtoll: the magnitude must fit the sign.
    let v = if negative {
        if (v.wrapping_neg() as i64) > 0 {
            return Ok(ERANGE);
        }
        v.wrapping_neg()
    } else {
        if (v as i64) < 0 {
            return Ok(ERANGE);
        }
        v
    };
    m.write(a[3], &v.to_le_bytes())?;
    Ok(n as u64)
}

/// `bpf_strtoul(buf, buf_len, flags, res)`: a minus sign is `-EINVAL`.
fn strtoul(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let buf = m.read_vec(a[0], a[1] as u32 as usize)?;
    m.write(a[3], &0u64.to_le_bytes())?;
    match strtoull(&buf, a[2]) {
        Ok((_, true, _)) => Ok(EINVAL),
        Ok((v, false, n)) => {
            m.write(a[3], &v.to_le_bytes())?;
            Ok(n as u64)
        }
        Err(e) => Ok(e),
    }
}

/// `bpf_strncmp(s1, s1_sz, s2)`: the C library's `strncmp` (lib/string.c): -1, 0 or 1 at the
/// first difference, comparing unsigned bytes, stopping at a NUL.
fn strncmp(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = a[1] as u32 as usize;
    let s1 = m.read_vec(a[0], n)?;
    // s2 is a constant string (ARG_PTR_TO_CONST_STR): NUL-terminated in a read-only map.
    let s2 = m
        .read_cstr(a[2], usize::MAX)
        .ok_or_else(|| super::bad(format!("{:#x} is not a readable string", a[2])))?;
    for (i, &c1) in s1.iter().enumerate() {
        let c2 = s2.get(i).copied().unwrap_or(0);
        if c1 != c2 {
            return Ok(if c1 < c2 { errno(1) } else { 1 });
        }
        if c1 == 0 {
            break;
        }
    }
    Ok(0)
}

/// Reads the `u64` arguments of `bpf_snprintf`/`bpf_trace_vprintk`: `-EINVAL` unless
/// `data_len` is a multiple of 8 of at most 12 arguments (and the pointer is set when it is
/// not zero).
fn varargs(m: &Machine, args: u64, data_len: u64) -> Result<Result<Vec<u64>, u64>, HelperError> {
    let len = data_len as u32;
    if len % 8 != 0 || len > MAX_VARARGS * 8 || (len != 0 && args == 0) {
        return Ok(Err(EINVAL));
    }
    if len == 0 {
        return Ok(Ok(Vec::new()));
    }
    let bytes = m.read(args, len as usize)?;
    Ok(Ok(bytes
        .chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()))
}

/// `bpf_snprintf(str, str_size, fmt, data, data_len)`: writes at most `str_size` bytes
/// (NUL included) and returns the length the whole output needs, NUL included.
fn snprintf(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let args = match varargs(m, a[3], a[4])? {
        Ok(v) => v,
        Err(e) => return Ok(e),
    };
    let fmt = m
        .read_cstr(a[2], usize::MAX)
        .ok_or_else(|| super::bad(format!("{:#x} is not a readable format string", a[2])))?;
    let mut raw = fmt;
    raw.push(0);
    let Some(out) = crate::printk::format(m, &raw, &args) else {
        return Ok(EINVAL);
    };
    let size = a[1] as u32 as usize;
    if size > 0 {
        let n = out.len().min(size - 1);
        let mut s = out[..n].to_vec();
        s.push(0);
        m.write(a[0], &s)?;
    }
    Ok(out.len() as u64 + 1)
}

/// `bpf_trace_vprintk(fmt, fmt_size, data, data_len)`: `bpf_trace_printk` with up to 12
/// arguments in an array (what `bpf_printk` with more than three arguments compiles to).
fn trace_vprintk(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let args = match varargs(m, a[2], a[3])? {
        Ok(v) => v,
        Err(e) => return Ok(e),
    };
    crate::printk::print(m, a[0], a[1], &args)
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, HelperFn)> {
    vec![
        (105, Box::new(strtol)),
        (106, Box::new(strtoul)),
        (165, Box::new(snprintf)),
        (177, Box::new(trace_vprintk)),
        (182, Box::new(strncmp)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_follows_kstrtox() {
        assert_eq!(strtoull(b"  -0x1fz", 0), Ok((0x1f, true, 7)));
        assert_eq!(strtoull(b"0x", 0), Ok((0, false, 1)));
        assert_eq!(strtoull(b"0x", 16), Err(EINVAL));
        assert_eq!(strtoull(b"017", 0), Ok((0o17, false, 3)));
        assert_eq!(strtoull(b"19", 8), Ok((1, false, 1)));
        assert_eq!(strtoull(b"   ", 10), Err(EINVAL));
        assert_eq!(strtoull(b"99999999999999999999", 10), Err(ERANGE));
        assert_eq!(strtoull(b"12", 2), Err(EINVAL));
        assert_eq!(strtoull(b"12", 0x20 | 10), Err(EINVAL));
    }
}
