//! Reading inputs: files or stdin, text or bytes, hex text.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// The largest input any subcommand reads (a program, an object, a filter, a packet, a
/// test file, from a file or stdin): 64 MiB. A larger input is rejected (exit 1, `NAME: input
/// larger than 64 MiB`) after reading one byte past the limit, so `/dev/zero` or a huge file
/// cannot fill memory.
pub const MAX_INPUT: u64 = 64 << 20;

/// Reads at most [`MAX_INPUT`] bytes from `r` (named `name` in errors).
pub fn read_limited(r: impl Read, name: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_INPUT + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {name}"))?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(crate::exit::Rejected(format!(
            "{name}: input larger than {} MiB",
            MAX_INPUT >> 20
        ))
        .into());
    }
    Ok(buf)
}

/// Reads a file, at most [`MAX_INPUT`] bytes (see [`read_limited`]).
pub fn read_file(p: &Path) -> Result<Vec<u8>> {
    let name = p.display().to_string();
    let f = std::fs::File::open(p).with_context(|| format!("cannot read {name}"))?;
    read_limited(f, &name)
}

/// Reads `path` as UTF-8 text, at most [`MAX_INPUT`] bytes.
pub fn read_file_text(p: &Path) -> Result<String> {
    let bytes = read_file(p)?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", p.display()))
}

/// Reads `path` (`-` or none: stdin) as bytes, at most [`MAX_INPUT`]; returns the bytes and
/// a display name.
pub fn read(path: Option<&Path>) -> Result<(Vec<u8>, String)> {
    match path {
        None => read_stdin(),
        Some(p) if p.as_os_str() == "-" => read_stdin(),
        Some(p) => Ok((read_file(p)?, p.display().to_string())),
    }
}

fn read_stdin() -> Result<(Vec<u8>, String)> {
    let name = "<stdin>".to_string();
    Ok((read_limited(std::io::stdin(), &name)?, name))
}

/// Reads `path` as UTF-8 text.
pub fn read_text(path: Option<&Path>) -> Result<(String, String)> {
    let (bytes, name) = read(path)?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok((s, name)),
        Err(e) => bail!(
            "{name} is not UTF-8 text (invalid byte at offset {}); is it bytecode? try `bpfx disasm`",
            e.utf8_error().valid_up_to()
        ),
    }
}

/// Whether `bytes` look like hex text: only hex digits, whitespace, commas, `0x` prefixes and
/// `#` / `//` comments, with at least one digit.
pub fn looks_like_hex(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    parse_hex(text).is_ok_and(|b| !b.is_empty())
}

/// Parses hex text: pairs of hex digits, separated or not by whitespace or commas, with
/// optional `0x` prefixes per byte, `#` and `//` comments to the end of the line.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("");
        let line = line.split('#').next().unwrap_or("");
        for word in line.split(|c: char| c.is_whitespace() || c == ',') {
            let word = word
                .strip_prefix("0x")
                .or_else(|| word.strip_prefix("0X"))
                .unwrap_or(word);
            if word.is_empty() {
                continue;
            }
            if word.len() % 2 != 0 {
                return Err(format!(
                    "line {}: `{word}` has an odd number of hex digits",
                    lineno + 1
                ));
            }
            for i in (0..word.len()).step_by(2) {
                let pair = &word[i..i + 2];
                let b = u8::from_str_radix(pair, 16)
                    .map_err(|_| format!("line {}: `{word}` is not hex", lineno + 1))?;
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// Lower-case hex, no separators (the one hex helper, shared with the harness).
pub use harness::schema::hex;

/// Hex of at most 64 bytes, with the total length when there is more.
pub fn hex_short(b: &[u8]) -> String {
    if b.len() <= 64 {
        hex(b)
    } else {
        format!("{}… ({} bytes)", hex(&b[..64]), b.len())
    }
}

/// Whether bytes are an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Whether bytes are assembly text rather than bytecode: UTF-8 without NUL or other
/// control characters (bytecode nearly always holds zero bytes).
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok()
        && !bytes
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
}

/// The `--map` value parser of every subcommand: [`asm::types::MapSpec::parse_cli`]'s
/// `[NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS]`; the old `NAME:TYPE:...` spelling
/// is read with a note on stderr.
pub fn map_spec(s: &str) -> Result<asm::types::MapSpec, String> {
    let (spec, note) = asm::types::MapSpec::parse_cli(s)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        // The text is what is under test: any bytes will do.
        assert_eq!(
            parse_hex("c3 00\n0x01, 0x02 # c\n4400 // x").unwrap(),
            [0xc3, 0, 1, 2, 0x44, 0]
        );
        assert_eq!(parse_hex("c4  00  00").unwrap(), [0xc4, 0, 0]);
        assert!(parse_hex("b7 0").is_err());
        assert!(parse_hex("zz").is_err());
        // Binary input detection: raw bytes (an `exit` slot's first half) are not hex.
        assert!(!looks_like_hex(&asm::Insn::exit().encode()[..4]));
        assert!(looks_like_hex(b"9500000000000000\n"));
    }
}
