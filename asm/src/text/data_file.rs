//! Reader for the `.data` test files of the eBPF conformance suite (`bpf_conformance`) and
//! of uBPF.
//!
//! A line starting with `--` opens a section named by the rest of the line: `-- asm` (ubpf
//! assembly, see [`crate::text::ubpf`]), `-- raw` (the program as 64-bit little-endian
//! words `0x...`, or as hex bytes), `-- mem` (hex bytes: the memory r1 points to),
//! `-- result` (the expected r0, hex) and `-- error` (the expected error text). Any other
//! section (`-- c`, uBPF's `-- no jit`, `-- asm @ file.asm` ...) is recorded by name in
//! [`DataFile::other_sections`] so the caller can decide to skip the test. `#` starts a
//! comment anywhere on a line; the `asm` section keeps its text verbatim, because the
//! assembler skips comments itself and its spans then stay valid for that text.
//!
//! ```
//! use asm::text::data_file;
//!
//! let f = data_file::parse("-- asm\nmov %r0, 2\nexit\n-- mem\n01 02\n-- result\n0x2\n").unwrap();
//! assert_eq!(f.asm.as_deref(), Some("mov %r0, 2\nexit\n"));
//! assert_eq!(f.mem, vec![1, 2]);
//! assert_eq!(f.result, Some(2));
//! ```

/// The sections of one `.data` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataFile {
    /// The `asm` section's text, verbatim (comments included).
    pub asm: Option<String>,
    /// 1-based line of the file where the `asm` text starts (to map diagnostics back).
    pub asm_line: Option<usize>,
    /// The `raw` section as program bytes.
    pub raw: Option<Vec<u8>>,
    /// The `mem` section's bytes (empty when absent).
    pub mem: Vec<u8>,
    /// The `result` section: the expected value of r0.
    pub result: Option<u64>,
    /// The `error` section's text, lines joined by `\n` and trimmed.
    pub error: Option<String>,
    /// Names of the sections this reader does not interpret, in file order.
    pub other_sections: Vec<String>,
}

/// What is wrong in a `.data` file, and on which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataFileError {
    /// A `mem` or `raw` token that is not hex bytes or a `0x` 64-bit word.
    #[error("line {line}: `{text}` in section `{section}` is not {expected}")]
    BadHex {
        /// Line number.
        line: usize,
        /// `mem` or `raw`.
        section: &'static str,
        /// The offending token.
        text: String,
        /// What the section takes.
        expected: &'static str,
    },
    /// The `result` section is not one hex number of at most 64 bits.
    #[error("line {line}: result `{text}` is not a 64-bit hex number such as `0x2a`")]
    BadResult {
        /// Line number.
        line: usize,
        /// The section's text.
        text: String,
    },
    /// A section that may appear once appears again.
    #[error("line {line}: section `{name}` appears twice")]
    DuplicateSection {
        /// Line number of the second header.
        line: usize,
        /// The section name.
        name: String,
    },
    /// Text before the first section header that is not a comment.
    #[error("line {line}: `{text}` is outside any section (sections start with `-- name`)")]
    OutsideSection {
        /// Line number.
        line: usize,
        /// The text.
        text: String,
    },
}

fn strip_comment(line: &str) -> &str {
    line.find('#').map_or(line, |i| &line[..i])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    None,
    Asm,
    Raw,
    Mem,
    Result,
    Error,
    Other,
}

/// Parses the text of a `.data` file.
pub fn parse(text: &str) -> Result<DataFile, DataFileError> {
    let mut f = DataFile::default();
    let mut section = Section::None;
    let mut seen: Vec<Section> = Vec::new();
    let mut asm = String::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut result: Vec<(usize, String)> = Vec::new();
    let mut error: Vec<String> = Vec::new();

    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(name) = line.trim_start().strip_prefix("--") {
            let name = strip_comment(name).trim();
            section = match name {
                "asm" => Section::Asm,
                "raw" => Section::Raw,
                "mem" => Section::Mem,
                "result" => Section::Result,
                "error" => Section::Error,
                _ => Section::Other,
            };
            if section == Section::Other {
                f.other_sections.push(name.to_string());
            } else if seen.contains(&section) {
                return Err(DataFileError::DuplicateSection {
                    line: n,
                    name: name.to_string(),
                });
            } else {
                seen.push(section);
                if section == Section::Asm {
                    f.asm_line = Some(n + 1);
                }
            }
            continue;
        }
        let body = strip_comment(line).trim();
        match section {
            Section::None if !body.is_empty() => {
                return Err(DataFileError::OutsideSection {
                    line: n,
                    text: body.to_string(),
                })
            }
            Section::None | Section::Other => {}
            Section::Asm => {
                asm.push_str(line);
                asm.push('\n');
            }
            Section::Raw => {
                for tok in body.split_whitespace() {
                    raw_token(tok, n, &mut raw)?;
                }
            }
            Section::Mem => {
                for tok in body.split_whitespace() {
                    hex_bytes(tok, n, "mem", &mut f.mem)?;
                }
            }
            Section::Result => {
                if !body.is_empty() {
                    result.push((n, body.to_string()));
                }
            }
            Section::Error => {
                if !body.is_empty() {
                    error.push(body.to_string());
                }
            }
        }
    }
    if seen.contains(&Section::Asm) {
        f.asm = Some(asm);
    }
    if seen.contains(&Section::Raw) {
        f.raw = Some(raw);
    }
    if seen.contains(&Section::Error) {
        f.error = Some(error.join("\n"));
    }
    match result.as_slice() {
        [] => {}
        [(line, text)] => {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            f.result =
                Some(
                    u64::from_str_radix(digits, 16).map_err(|_| DataFileError::BadResult {
                        line: *line,
                        text: text.clone(),
                    })?,
                );
        }
        [(line, _), ..] => {
            let text = result
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            return Err(DataFileError::BadResult { line: *line, text });
        }
    }
    Ok(f)
}

/// `aa`, `aabb` (bytes in order).
fn hex_bytes(
    tok: &str,
    line: usize,
    section: &'static str,
    out: &mut Vec<u8>,
) -> Result<(), DataFileError> {
    let bad = || DataFileError::BadHex {
        line,
        section,
        text: tok.to_string(),
        expected: if section == "raw" {
            "hex bytes or a 64-bit word like `0x00000000000000b7`"
        } else {
            "hex bytes"
        },
    };
    if tok.len() % 2 != 0 || !tok.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    for i in (0..tok.len()).step_by(2) {
        out.push(u8::from_str_radix(&tok[i..i + 2], 16).map_err(|_| bad())?);
    }
    Ok(())
}

/// A raw program token: `0x` and up to 16 hex digits is one instruction word, stored
/// little-endian (as the conformance suite writes `lddw`'s `0x5566778800000018`);
/// anything else is hex bytes in order.
fn raw_token(tok: &str, line: usize, out: &mut Vec<u8>) -> Result<(), DataFileError> {
    match tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        Some(digits) => {
            let word = (!digits.is_empty() && digits.len() <= 16)
                .then(|| u64::from_str_radix(digits, 16).ok())
                .flatten()
                .ok_or_else(|| DataFileError::BadHex {
                    line,
                    section: "raw",
                    text: tok.to_string(),
                    expected: "a 64-bit word like `0x00000000000000b7`",
                })?;
            out.extend_from_slice(&word.to_le_bytes());
            Ok(())
        }
        None => hex_bytes(tok, line, "raw", out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_sections() {
        let f = parse(
            "# header comment\n-- c\nint main() {}\n-- asm\nmov %r0, 1 # one\nexit\n-- raw\n\
             0x00000001000000b7 # word\n95 00 00 00 00 00 00 00\n-- mem\naa bb\nccdd\n\
             -- result\n0xffffffffffffffff\n-- error\nFailed to load\n  at PC 0\n-- no jit\n",
        )
        .unwrap();
        assert_eq!(f.asm.as_deref(), Some("mov %r0, 1 # one\nexit\n"));
        assert_eq!(f.asm_line, Some(5));
        assert_eq!(
            f.raw,
            Some(vec![0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(f.mem, vec![0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(f.result, Some(u64::MAX));
        assert_eq!(f.error.as_deref(), Some("Failed to load\nat PC 0"));
        assert_eq!(
            f.other_sections,
            vec!["c".to_string(), "no jit".to_string()]
        );
    }

    #[test]
    fn absent_sections() {
        let f = parse("# only a comment\n").unwrap();
        assert_eq!(f, DataFile::default());
        // An empty error section is present but empty (the suite uses it for "must fail").
        let f = parse("-- raw\n95 00 00 00 00 00 00 00\n-- error\n").unwrap();
        assert_eq!(f.error.as_deref(), Some(""));
        assert_eq!(f.asm, None);
        // A header without a name is an unknown section, kept as such.
        let f = parse("-- Unknown directive\n-- error\nInvalid register").unwrap();
        assert_eq!(f.other_sections, vec!["Unknown directive".to_string()]);
        assert_eq!(f.error.as_deref(), Some("Invalid register"));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("-- mem\n0g\n").unwrap_err(),
            DataFileError::BadHex {
                line: 2,
                section: "mem",
                text: "0g".into(),
                expected: "hex bytes"
            }
        );
        assert!(matches!(
            parse("-- raw\n0x11223344556677889\n"),
            Err(DataFileError::BadHex { line: 2, .. })
        ));
        assert!(matches!(
            parse("-- mem\nabc\n"),
            Err(DataFileError::BadHex { line: 2, .. })
        ));
        assert_eq!(
            parse("-- result\n0x10000000000000000\n").unwrap_err(),
            DataFileError::BadResult {
                line: 2,
                text: "0x10000000000000000".into()
            }
        );
        assert!(matches!(
            parse("-- result\n1\n2\n"),
            Err(DataFileError::BadResult { line: 2, .. })
        ));
        assert_eq!(
            parse("-- asm\nexit\n-- asm\n").unwrap_err(),
            DataFileError::DuplicateSection {
                line: 3,
                name: "asm".into()
            }
        );
        assert_eq!(
            parse("mov %r0, 1\n-- asm\n").unwrap_err(),
            DataFileError::OutsideSection {
                line: 1,
                text: "mov %r0, 1".into()
            }
        );
        let msg = parse("-- result\nzz\n").unwrap_err().to_string();
        assert_eq!(
            msg,
            "line 2: result `zz` is not a 64-bit hex number such as `0x2a`"
        );
    }
}
