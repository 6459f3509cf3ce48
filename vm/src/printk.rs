//! `bpf_trace_printk` and `bpf_trace_vprintk` with the format rules of the kernel's
//! `bpf_bprintf_prepare` (`kernel/bpf/helpers.c`), also used by `bpf_snprintf`: at most three
//! arguments for `bpf_trace_printk`, twelve for the others; only `%d %i %u %x %X` (with `l`/`ll`),
//! `%c`, `%s`, `%p` and its `K x B i4 I4 i6 I6 ks us` forms; flags `0 + - space` and a width;
//! every character printable or space. A format the kernel rejects returns `-EINVAL` and
//! prints nothing.
//!
//! Difference from the kernel: plain `%p` prints the raw value (the kernel prints a hashed
//! pointer unless booted with `no_hash_pointers`).

use crate::error::HelperError;
use crate::machine::Machine;

const EINVAL: u64 = -22i64 as u64;
/// `MAX_BPRINTF_BUF`: the formatted output is cut at this many bytes (with the NUL).
const MAX_BUF: usize = 512;

#[derive(Default, Clone, Copy)]
struct Spec {
    zero: bool,
    plus: bool,
    left: bool,
    space: bool,
    width: usize,
}

fn pad(s: String, spec: Spec, numeric: bool) -> String {
    if s.len() >= spec.width {
        return s;
    }
    let n = spec.width - s.len();
    if spec.left {
        s + &" ".repeat(n)
    } else if spec.zero && numeric {
        let (sign, digits) = match s.strip_prefix(['-', '+', ' ']) {
            Some(rest) => (&s[..1], rest),
            None => ("", s.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(n))
    } else {
        " ".repeat(n) + &s
    }
}

/// `bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3)`.
pub(crate) fn trace_printk(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    print(m, a[0], a[1], &[a[2], a[3], a[4]])
}

/// The trace output of `bpf_trace_printk` and `bpf_trace_vprintk`: formats `fmt`
/// (`fmt_size` bytes, NUL included) with `args`, writes one trace_pipe line of at most
/// `MAX_BPRINTF_BUF - 1` bytes, and returns the length of the whole output (what
/// `bstr_printf` returns, even when the line was cut).
pub(crate) fn print(
    m: &mut Machine,
    fmt: u64,
    fmt_size: u64,
    args: &[u64],
) -> Result<u64, HelperError> {
    let fmt_size = fmt_size as u32 as usize;
    if fmt_size == 0 {
        return Ok(EINVAL);
    }
    let raw = m.read(fmt, fmt_size)?.to_vec();
    match format(m, &raw, args) {
        Some(mut out) => {
            let n = out.len();
            out.truncate(MAX_BUF - 1);
            let text = String::from_utf8_lossy(&out);
            // trace_pipe shows one line per call; a trailing newline in the format ends it.
            let msg = text.strip_suffix('\n').unwrap_or(&text).to_string();
            m.trace(msg);
            Ok(n as u64)
        }
        None => Ok(EINVAL),
    }
}

/// Formats like the kernel; `None` where the kernel answers `-EINVAL`.
pub(crate) fn format(m: &Machine, raw: &[u8], args: &[u64]) -> Option<Vec<u8>> {
    let end = raw.iter().position(|&b| b == 0)?;
    let fmt = &raw[..end];
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut next_arg = 0;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if !(c.is_ascii_graphic() || c == b' ' || c.is_ascii_whitespace()) {
            return None;
        }
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        if at(i + 1) == b'%' {
            out.push(b'%');
            i += 2;
            continue;
        }
        if next_arg >= args.len() {
            return None;
        }
        let arg = args[next_arg];
        next_arg += 1;
        i += 1;
        let mut spec = Spec::default();
        loop {
            match at(i) {
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b'-' => spec.left = true,
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        if (b'1'..=b'9').contains(&at(i)) {
            while at(i).is_ascii_digit() {
                spec.width = spec
                    .width
                    .saturating_mul(10)
                    .saturating_add((at(i) - b'0') as usize);
                i += 1;
            }
        }
        let s = match at(i) {
            b'p' => {
                let (s, used) = pointer(m, arg, at(i + 1), at(i + 2))?;
                i += used;
                // "disallow any further format extensions"
                let nx = at(i + 1);
                if nx != 0 && !nx.is_ascii_whitespace() && !nx.is_ascii_punctuation() {
                    return None;
                }
                pad(s, spec, false)
            }
            b's' => {
                let s = m.read_cstr(arg, MAX_BUF).unwrap_or_default();
                pad(String::from_utf8_lossy(&s).into_owned(), spec, false)
            }
            b'c' => pad(
                String::from_utf8_lossy(&[arg as u8]).into_owned(),
                spec,
                false,
            ),
            _ => {
                let mut long = 0;
                while at(i) == b'l' && long < 2 {
                    long += 1;
                    i += 1;
                }
                let conv = at(i);
                let s = match conv {
                    b'd' | b'i' => {
                        let v: i64 = if long == 0 {
                            arg as i32 as i64
                        } else {
                            arg as i64
                        };
                        let sign = if v >= 0 && spec.plus {
                            "+"
                        } else if v >= 0 && spec.space {
                            " "
                        } else {
                            ""
                        };
                        format!("{sign}{v}")
                    }
                    b'u' => {
                        if long == 0 {
                            (arg as u32).to_string()
                        } else {
                            arg.to_string()
                        }
                    }
                    b'x' | b'X' => {
                        let v = if long == 0 { arg as u32 as u64 } else { arg };
                        if conv == b'x' {
                            format!("{v:x}")
                        } else {
                            format!("{v:X}")
                        }
                    }
                    _ => return None,
                };
                pad(s, spec, true)
            }
        };
        out.extend_from_slice(s.as_bytes());
        i += 1;
    }
    Some(out)
}

/// `%p` and its extensions; returns the text and how many extra format bytes were used.
fn pointer(m: &Machine, arg: u64, c1: u8, c2: u8) -> Option<(String, usize)> {
    Some(match (c1, c2) {
        (b'K' | b'x' | b'B', _) => (format!("{arg:016x}"), 1),
        (b'k' | b'u', b's') => {
            let s = m.read_cstr(arg, MAX_BUF).unwrap_or_default();
            (String::from_utf8_lossy(&s).into_owned(), 2)
        }
        (b'i' | b'I', b'4') => {
            let b = m.read(arg, 4).ok()?;
            let s = if c1 == b'i' {
                format!("{:03}.{:03}.{:03}.{:03}", b[0], b[1], b[2], b[3])
            } else {
                format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
            };
            (s, 2)
        }
        (b'i' | b'I', b'6') => {
            let b = m.read(arg, 16).ok()?;
            let groups: Vec<String> = b
                .chunks(2)
                .map(|g| format!("{:02x}{:02x}", g[0], g[1]))
                .collect();
            (
                if c1 == b'i' {
                    groups.concat()
                } else {
                    groups.join(":")
                },
                2,
            )
        }
        (b'i' | b'I', _) => return None,
        _ => (format!("{arg:016x}"), 0),
    })
}
