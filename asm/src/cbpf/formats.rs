//! The non-assembly forms of a classic program: raw `struct sock_filter[]` bytes, the C
//! array of `bpf_asm -c` / `tcpdump -dd`, the `N,code jt jf k,...` line of `bpf_asm` /
//! `tcpdump -ddd` / xt_bpf / tc, a Rust array of `libc::sock_filter`, and JSON.
//!
//! ```
//! use asm::cbpf::formats::{self, Format};
//! use asm::cbpf::SockFilter;
//! let prog = [SockFilter::new(0x20, 0, 0, 4), SockFilter::new(0x06, 0, 0, 0x7fff0000)];
//! let text = formats::write(&prog, Format::Bpfasm);
//! assert_eq!(text, "2,32 0 0 4,6 0 0 2147418112,\n");
//! assert_eq!(formats::parse_bpfasm(&text).unwrap(), prog);
//! assert_eq!(formats::parse_c(&formats::write(&prog, Format::C)).unwrap(), prog);
//! ```

use super::SockFilter;
use crate::diag::{Diagnostic, Span};

/// Output forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `struct sock_filter[]`, host endian (use [`super::encode`]; [`write()`] gives hex).
    Raw,
    /// `{ 0x20, 0, 0, 0x00000004 },` lines.
    C,
    /// `N,code jt jf k,...,`
    Bpfasm,
    /// `libc::sock_filter { code: 0x20, jt: 0, jf: 0, k: 0x00000004 },` lines in `[...]`.
    Rust,
    /// `[{"code":32,"jt":0,"jf":0,"k":4}, ...]`
    Json,
}

/// Writes a program as text (for [`Format::Raw`], a hex dump of the bytes).
pub fn write(prog: &[SockFilter], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Raw => {
            for chunk in super::encode(prog).chunks(8) {
                let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                out.push_str(&hex.join(" "));
                out.push('\n');
            }
        }
        Format::C => {
            for f in prog {
                out.push_str(&format!(
                    "{{ {:#04x}, {}, {}, {:#010x} }},\n",
                    f.code, f.jt, f.jf, f.k
                ));
            }
        }
        Format::Bpfasm => {
            out.push_str(&format!("{},", prog.len()));
            for f in prog {
                out.push_str(&format!("{} {} {} {},", f.code, f.jt, f.jf, f.k));
            }
            out.push('\n');
        }
        Format::Rust => {
            out.push_str("[\n");
            for f in prog {
                out.push_str(&format!(
                    "    libc::sock_filter {{ code: {:#06x}, jt: {}, jf: {}, k: {:#010x} }},\n",
                    f.code, f.jt, f.jf, f.k
                ));
            }
            out.push_str("]\n");
        }
        Format::Json => {
            out.push_str(&serde_json_like(prog));
            out.push('\n');
        }
    }
    out
}

fn serde_json_like(prog: &[SockFilter]) -> String {
    let items: Vec<String> = prog
        .iter()
        .map(|f| {
            format!(
                "{{\"code\":{},\"jt\":{},\"jf\":{},\"k\":{}}}",
                f.code, f.jt, f.jf, f.k
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Numbers in a text with their spans: decimal, `0x` hex, `0` octal as C reads them.
fn numbers(text: &str, seps: &[char]) -> Vec<Result<(u64, Span), Diagnostic>> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        // `i` only ever advances over whole characters.
        let c = text[i..].chars().next().expect("i < len");
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let s = &text[start..i];
            let span = Span::new(start, i);
            let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                u64::from_str_radix(h, 16)
            } else if s.len() > 1 && s.starts_with('0') {
                u64::from_str_radix(&s[1..], 8)
            } else {
                s.parse()
            };
            out.push(
                v.map(|v| (v, span))
                    .map_err(|_| Diagnostic::error(span, format!("`{s}` is not a number"))),
            );
        } else if c.is_whitespace() || seps.contains(&c) {
            i += c.len_utf8();
        } else {
            let start = i;
            i += c.len_utf8();
            out.push(Err(Diagnostic::error(
                Span::new(start, i),
                format!("unexpected `{c}`"),
            )
            .with_expected(["a number"])));
        }
    }
    out
}

fn build(vals: &[(u64, Span)], errors: &mut Vec<Diagnostic>) -> Vec<SockFilter> {
    let mut prog = Vec::new();
    for (i, q) in vals.chunks(4).enumerate() {
        let [(c, cs), (t, ts), (f, fs), (k, ks)] = q else {
            let sp = q[0].1.to(q[q.len() - 1].1);
            errors.push(
                Diagnostic::error(sp, format!("instruction {i} is incomplete"))
                    .with_expected(["code jt jf k"]),
            );
            break;
        };
        let mut field = |v: u64, s: Span, max: u64, what: &str| -> u64 {
            if v > max {
                errors.push(
                    Diagnostic::error(s, format!("instruction {i}: {what} {v} does not fit"))
                        .with_expected([format!("0 ..= {max}")]),
                );
            }
            v
        };
        let code = field(*c, *cs, 0xffff, "code") as u16;
        let jt = field(*t, *ts, 255, "jt") as u8;
        let jf = field(*f, *fs, 255, "jf") as u8;
        let k = field(*k, *ks, u32::MAX as u64, "k") as u32;
        prog.push(SockFilter::new(code, jt, jf, k));
    }
    prog
}

/// Parses `N,code jt jf k,code jt jf k,...` (the count must match).
pub fn parse_bpfasm(text: &str) -> Result<Vec<SockFilter>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut vals = Vec::new();
    for r in numbers(text, &[',']) {
        match r {
            Ok(v) => vals.push(v),
            Err(e) => errors.push(e),
        }
    }
    let Some((&(n, nspan), rest)) = vals.split_first() else {
        return Err(vec![Diagnostic::error(
            Span::new(0, text.len()),
            "empty program",
        )
        .with_expected(["N,code jt jf k,..."])]);
    };
    let prog = build(rest, &mut errors);
    if errors.is_empty() && prog.len() as u64 != n {
        errors.push(Diagnostic::error(
            nspan,
            format!("the count says {n} instructions but {} follow", prog.len()),
        ));
    }
    if errors.is_empty() {
        Ok(prog)
    } else {
        Err(errors)
    }
}

/// Parses a C initializer: `{ 0x20, 0, 0, 0x00000004 },` ... Every innermost `{ ... }`
/// group is one instruction; anything outside them (`struct sock_filter f[] = {`,
/// `BPF_STMT` is not supported) is ignored, as are `/* */` and `//` comments.
pub fn parse_c(text: &str) -> Result<Vec<SockFilter>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut vals = Vec::new();
    let b = text.as_bytes();
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(b.len(), |e| i + e);
                continue;
            }
            b'{' => open = Some(i),
            b'}' => {
                if let Some(o) = open.take() {
                    let inner = &text[o + 1..i];
                    let before = vals.len();
                    let errs = errors.len();
                    for r in numbers(inner, &[',']) {
                        match r {
                            Ok((v, s)) => vals.push((v, Span::new(s.start + o + 1, s.end + o + 1))),
                            Err(mut e) => {
                                e.span = Span::new(e.span.start + o + 1, e.span.end + o + 1);
                                errors.push(e)
                            }
                        }
                    }
                    if errors.len() == errs && vals.len() - before != 4 {
                        errors.push(
                            Diagnostic::error(
                                Span::new(o, i + 1),
                                "an instruction has four fields",
                            )
                            .with_expected(["{ code, jt, jf, k }"]),
                        );
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let prog = build(&vals, &mut errors);
    if prog.is_empty() && errors.is_empty() {
        errors.push(Diagnostic::error(
            Span::new(0, text.len()),
            "no `{ code, jt, jf, k }` found",
        ));
    }
    if errors.is_empty() {
        Ok(prog)
    } else {
        Err(errors)
    }
}

/// Which form a text is in, judged from its first significant character: `{` or a C
/// declaration is [`parse_c`], `N,` is [`parse_bpfasm`], anything else is assembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// A C initializer.
    C,
    /// `N,code jt jf k,...`
    Bpfasm,
    /// Assembly in some dialect.
    Asm,
}

/// Guesses the form of a text.
pub fn detect(text: &str) -> TextKind {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with("struct") || t.starts_with("static") {
        return TextKind::C;
    }
    let digits = t.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && t[digits..].trim_start().starts_with(',') {
        return TextKind::Bpfasm;
    }
    TextKind::Asm
}
