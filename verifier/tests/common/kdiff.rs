//! Shared by `kernel_differential.rs` and `kernel_regressions.rs`: the maps every random
//! program gets, verdicts of both verifiers, and the regression file format.

#![allow(dead_code)]

use asm::types::{MapType, ProgType};
use asm::Insn;
use verifier::{MapSpec, Options};

/// The maps every program may use: map 0 an array (4-byte keys, 16-byte values, 4 entries),
/// map 1 a hash (4-byte keys, 8-byte values, 16 entries).
pub const MAPS: [(MapType, u32, u32, u32); 2] =
    [(MapType::Array, 4, 16, 4), (MapType::Hash, 4, 8, 16)];

/// One verifier's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Loaded.
    Accept,
    /// Refused: errno and the first error line of the log.
    Reject { errno: i32, message: String },
}

impl Verdict {
    /// One line, as written into regression files.
    pub fn render(&self) -> String {
        match self {
            Verdict::Accept => "accept".into(),
            Verdict::Reject { errno, message } => format!("reject {errno} {message}"),
        }
    }

    /// Reads what [`Verdict::render`] wrote.
    pub fn parse(s: &str) -> Result<Verdict, String> {
        let s = s.trim();
        if s == "accept" {
            return Ok(Verdict::Accept);
        }
        let rest = s
            .strip_prefix("reject ")
            .ok_or_else(|| format!("verdict `{s}`: expected `accept` or `reject ERRNO MESSAGE`"))?;
        let (n, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        Ok(Verdict::Reject {
            errno: n.parse().map_err(|e| format!("errno `{n}`: {e}"))?,
            message: msg.to_string(),
        })
    }

    /// Whether it is an acceptance.
    pub fn accepted(&self) -> bool {
        matches!(self, Verdict::Accept)
    }
}

/// bpfx's verifier options for a program type with [`MAPS`].
pub fn options(t: ProgType) -> Options {
    let mut o = Options::new(t);
    for (i, (mt, k, v, n)) in MAPS.iter().enumerate() {
        o.maps
            .push(MapSpec::new(*mt, *k, *v, *n).named(format!("map{i}")));
    }
    o
}

/// bpfx's verdict; `Err` when bpfx declines to answer (something it does not model).
pub fn bpfx(prog: &[Insn], t: ProgType) -> Result<Verdict, String> {
    match verifier::verify(prog, &options(t)) {
        Ok(_) => Ok(Verdict::Accept),
        Err(r) if r.kind == verifier::RejectKind::Unsupported => Err(r.message),
        Err(r) => {
            let mut message = r.message;
            if message.starts_with("old state:") {
                // Verified again with a log for the line that names the loop.
                let mut o = options(t);
                o.log_level = 1;
                if let Err(r) = verifier::verify(prog, &o) {
                    message = loop_line(&r.log).unwrap_or(message);
                }
            }
            Ok(Verdict::Reject {
                errno: r.errno,
                message,
            })
        }
    }
}

/// "infinite loop detected at insn N": the kernel follows it with the two states, and the
/// last of those ("old state: ...") is what a log's last line gives; the states are
/// printed with details (precision marks, number bases) that say nothing about the verdict.
fn loop_line(log: &str) -> Option<String> {
    log.lines()
        .find(|l| l.starts_with("infinite loop detected"))
        .map(str::to_string)
}

/// The kernel's maps for [`MAPS`], created once per test.
pub fn kernel_maps() -> Result<Vec<kernel::Map>, kernel::Error> {
    MAPS.iter()
        .enumerate()
        .map(|(i, (mt, k, v, n))| {
            kernel::Map::create(&kernel::MapSpec::new(*mt, *k, *v, *n).named(format!("bpfx_vd{i}")))
        })
        .collect()
}

/// The kernel's verdict (privileged load); `Err` when bpf() is unusable.
pub fn kernel(prog: &[Insn], t: ProgType, maps: &[kernel::Map]) -> Result<Verdict, String> {
    let mut load = kernel::LoadOptions::new(t);
    load.maps = maps.iter().collect();
    match kernel::Program::load(prog, &load) {
        Ok(_) => Ok(Verdict::Accept),
        Err(e) if e.is_unavailable() => Err(e.to_string()),
        Err(e) => {
            let mut message = e
                .verifier_log()
                .and_then(kernel::error::first_error_line)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string());
            if message.starts_with("old state:") {
                message = e.verifier_log().and_then(loop_line).unwrap_or(message);
            }
            Ok(Verdict::Reject {
                errno: e.errno().map_or(0, |n| n.0),
                message,
            })
        }
    }
}

/// A saved mismatch: the program, its type and both answers at the time it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Regression {
    /// Program type.
    pub prog_type: ProgType,
    /// The kernel's verdict (what bpfx must give).
    pub kernel: Verdict,
    /// bpfx's verdict when the file was written.
    pub bpfx_then: Verdict,
    /// The program.
    pub prog: Vec<Insn>,
}

/// Writes a regression file: `key: value` header lines, then one 8-byte slot of hex per
/// line (`#` lines are comments).
pub fn render_regression(r: &Regression, note: &str) -> String {
    let mut s = String::new();
    for l in note.lines() {
        s.push_str(&format!("# {l}\n"));
    }
    s.push_str(&format!("type: {}\n", r.prog_type.name()));
    for (mt, k, v, n) in MAPS {
        s.push_str(&format!("map: {} {k} {v} {n}\n", mt.name()));
    }
    s.push_str(&format!("kernel: {}\n", r.kernel.render()));
    s.push_str(&format!("bpfx: {}\n", r.bpfx_then.render()));
    for c in asm::encode(&r.prog).chunks(8) {
        s.push_str(&c.iter().map(|b| format!("{b:02x}")).collect::<String>());
        s.push('\n');
    }
    s
}

/// Reads what [`render_regression`] wrote.
pub fn parse_regression(text: &str) -> Result<Regression, String> {
    let mut prog_type = None;
    let mut kernel = None;
    let mut bpfx_then = None;
    let mut maps = Vec::new();
    let mut hex = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", n + 1);
        if let Some((key, value)) = line.split_once(": ") {
            match key {
                "type" => prog_type = Some(value.parse::<ProgType>().map_err(at)?),
                "map" => maps.push(value.to_string()),
                "kernel" => kernel = Some(Verdict::parse(value).map_err(at)?),
                "bpfx" => bpfx_then = Some(Verdict::parse(value).map_err(at)?),
                _ => return Err(at(format!("unknown key `{key}`"))),
            }
        } else {
            hex.push_str(line);
        }
    }
    let want: Vec<String> = MAPS
        .iter()
        .map(|(mt, k, v, n)| format!("{} {k} {v} {n}", mt.name()))
        .collect();
    if maps != want {
        return Err(format!("maps {maps:?}, expected {want:?}"));
    }
    if hex.len() % 16 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the program must be 8-byte slots of hex digits".into());
    }
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex"))
        .collect();
    let prog = asm::decode(&bytes)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|d| d.insn)
        .collect();
    Ok(Regression {
        prog_type: prog_type.ok_or("no `type:` line")?,
        kernel: kernel.ok_or("no `kernel:` line")?,
        bpfx_then: bpfx_then.ok_or("no `bpfx:` line")?,
        prog,
    })
}
