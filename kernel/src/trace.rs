//! `bpf_trace_printk` lines read back from the kernel.
//!
//! `bpf_trace_printk` emits the `bpf_trace:bpf_trace_printk` trace event
//! (`kernel/trace/bpf_trace.c`), which goes to every tracefs instance where the event is
//! enabled. Rather than consume the global `trace_pipe` (which other tracers on the machine
//! read and write), a [`Capture`] makes its own instance (`instances/bpfx-<pid>-<n>`),
//! enables the event there only, and reads that instance's `trace` buffer. Other processes'
//! `bpf_trace_printk` calls land in the instance too, so only lines whose task is the
//! calling thread are kept (a test run executes the program in the caller's context); a
//! raw tracepoint run on another CPU executes in an interrupt there, so for it lines are
//! kept by CPU instead.

use crate::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Where tracefs may be mounted.
const TRACEFS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The marker the event's output puts before the message.
const MARKER: &str = " bpf_trace_printk: ";

/// A tracefs instance recording `bpf_trace_printk` events; removed on drop.
#[derive(Debug)]
pub struct Capture {
    dir: PathBuf,
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::Input(format!("{what} {}: {e}", p.display()))
}

/// Which lines of the buffer are this run's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose {
    /// The task with this thread id.
    Task(u32),
    /// Whatever ran on this CPU.
    Cpu(u32),
}

impl Whose {
    /// The calling thread.
    pub fn this_thread() -> Whose {
        // SAFETY: gettid has no preconditions.
        Whose::Task(unsafe { libc::gettid() } as u32)
    }
}

impl Capture {
    /// Makes an instance with the `bpf_trace_printk` event enabled. Error: tracefs is not
    /// mounted or not writable (why, and how to mount it).
    pub fn new() -> Result<Capture, Error> {
        let root = TRACEFS
            .iter()
            .map(Path::new)
            .find(|p| p.join("instances").is_dir())
            .ok_or_else(|| {
                Error::Input(
                    "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)".into(),
                )
            })?;
        remove_stale(&root.join("instances"));
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = root.join("instances").join(format!(
            "bpfx-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|e| io("cannot make the tracefs instance", &dir, e))?;
        let c = Capture { dir };
        let enable = c.dir.join("events/bpf_trace/bpf_trace_printk/enable");
        std::fs::write(&enable, "1").map_err(|e| io("cannot enable", &enable, e))?;
        Ok(c)
    }

    /// Empties the instance's buffer.
    pub fn clear(&self) -> Result<(), Error> {
        let trace = self.dir.join("trace");
        // Opening `trace` for writing with O_TRUNC clears the buffer (tracing_open).
        std::fs::write(&trace, "").map_err(|e| io("cannot clear", &trace, e))
    }

    /// The messages in the buffer from `whose`, oldest first, and clears the buffer.
    pub fn take(&self, whose: Whose) -> Result<Vec<String>, Error> {
        let trace = self.dir.join("trace");
        let text = std::fs::read_to_string(&trace).map_err(|e| io("cannot read", &trace, e))?;
        self.clear()?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| parse_line(l, whose))
            .collect())
    }
}

/// The message of a `trace` line (`  comm-tid  [cpu] flags  timestamp: bpf_trace_printk:
/// message`) when it is a `bpf_trace_printk` event of `whose`.
pub fn parse_line(line: &str, whose: Whose) -> Option<String> {
    let at = line.find(MARKER)?;
    let head = &line[..at];
    // The CPU field is the first "[digits]" after the task: a task name may hold anything
    // but "[nnn]" followed by the flags is what the output always has there.
    let open = head.match_indices(" [").map(|(i, _)| i).find(|&i| {
        let rest = &head[i + 2..];
        rest.find(']')
            .is_some_and(|j| j > 0 && rest[..j].bytes().all(|b| b.is_ascii_digit()))
    })?;
    let task = head[..open].trim();
    let cpu: u32 = head[open + 2..].split(']').next()?.parse().ok()?;
    let tid: u32 = task.rsplit_once('-')?.1.parse().ok()?;
    let mine = match whose {
        Whose::Task(t) => tid == t,
        Whose::Cpu(c) => cpu == c,
    };
    mine.then(|| line[at + MARKER.len()..].to_string())
}

/// Removes instances left by bpfx processes that are gone (killed before their drop ran),
/// so they do not keep recording.
fn remove_stale(instances: &Path) {
    let Ok(dir) = std::fs::read_dir(instances) else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("bpfx-"))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::write(
                e.path().join("events/bpf_trace/bpf_trace_printk/enable"),
                "0",
            );
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // Best effort: an instance with an enabled event can still be removed.
        let _ = std::fs::write(
            self.dir.join("events/bpf_trace/bpf_trace_printk/enable"),
            "0",
        );
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_by_task_or_cpu() {
        let l = "     bpfx-test-1-1234    [001] ...11  5306.123456: bpf_trace_printk: big packet: 112 bytes";
        assert_eq!(
            parse_line(l, Whose::Task(1234)).as_deref(),
            Some("big packet: 112 bytes")
        );
        assert_eq!(parse_line(l, Whose::Task(123)), None);
        assert_eq!(
            parse_line(l, Whose::Cpu(1)).as_deref(),
            Some("big packet: 112 bytes")
        );
        assert_eq!(parse_line(l, Whose::Cpu(0)), None);
        // Another event, or a comment.
        assert_eq!(
            parse_line("  x-1 [000] ..... 1.0: sys_enter: y", Whose::Cpu(0)),
            None
        );
        assert_eq!(parse_line("# tracer: nop", Whose::Cpu(0)), None);
    }
}
