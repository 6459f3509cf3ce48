//! What the kernel engine reads back beside maps: ring buffer records (mmap, after each
//! run), `bpf_perf_event_output` samples (a perf event per CPU, [`kernel::perf`]) and `bpf_trace_printk` lines (a tracefs instance of its own, see [`kernel::trace`]).
//! What cannot be read is `None` in the observation, with the reason in
//! [`Observation::unobserved`], so a comparison says "not compared" rather than "agree".

use crate::observation::Observation;
use crate::program::Program;
use asm::isa::{CallKind, Form};
use asm::types::{MapType, ProgType};
use kernel::perf::PerfBuffers;
use kernel::ringbuf::RingBuf;
use kernel::trace::{Capture, Whose};
use std::collections::BTreeMap;

/// The helpers a program calls, by name (`asm`'s helper table).
pub fn helpers_called(insns: &[asm::Insn]) -> impl Iterator<Item = &'static str> + '_ {
    insns.iter().filter_map(|i| {
        (i.form() == Some(Form::Call(CallKind::Helper)))
            .then(|| asm::text::helpers::bare(i.imm as u32))
            .flatten()
    })
}

/// Readers set up before the first run, drained after each.
#[derive(Debug)]
pub struct Readback {
    rings: Vec<(String, RingBuf)>,
    perf: Vec<(String, PerfBuffers)>,
    records: BTreeMap<String, Vec<Vec<u8>>>,
    /// Why records are not observed.
    records_missing: Option<String>,
    /// `None`: the program cannot print.
    capture: Option<Capture>,
    lines: Vec<String>,
    /// Why trace lines are not observed.
    trace_missing: Option<String>,
    whose: Whose,
}

impl Readback {
    /// Whose trace lines a run of this type on `cpu` makes: a raw tracepoint runs on its
    /// CPU through an IPI when that is not the caller's CPU (bpf_prog_test_run_raw_tp), so
    /// its lines are known by CPU; every other test run executes in the calling thread.
    pub fn whose(prog_type: Option<ProgType>, cpu: u32) -> Whose {
        if prog_type == Some(ProgType::RawTracepoint) {
            Whose::Cpu(cpu)
        } else {
            Whose::this_thread()
        }
    }

    /// Sets up readers for `program`'s ring buffers and perf event arrays (`kmaps`, its
    /// maps in the kernel, in order; perf events go into the perf event arrays now), and a
    /// trace capture when it calls `bpf_trace_printk`; `whose` trace lines to keep.
    pub fn new(program: &Program, kmaps: &[kernel::Map], whose: Whose) -> Readback {
        let mut rb = Readback {
            rings: Vec::new(),
            perf: Vec::new(),
            records: BTreeMap::new(),
            records_missing: None,
            capture: None,
            lines: Vec::new(),
            trace_missing: None,
            whose,
        };
        for (m, km) in program.maps.iter().zip(kmaps) {
            let name = m.spec.name.clone();
            match m.spec.map_type {
                MapType::Ringbuf => match RingBuf::new(km) {
                    Ok(r) => {
                        rb.records.insert(name.clone(), Vec::new());
                        rb.rings.push((name, r));
                    }
                    Err(e) => rb.records_missing = Some(format!("ring buffer `{name}`: {e}")),
                },
                MapType::PerfEventArray => match PerfBuffers::new(km) {
                    Ok(p) => {
                        rb.records.insert(name.clone(), Vec::new());
                        rb.perf.push((name, p));
                    }
                    Err(e) => rb.records_missing = Some(format!("perf event array `{name}`: {e}")),
                },
                _ => {}
            }
        }
        if helpers_called(&program.insns).any(|h| h == "trace_printk" || h == "trace_vprintk") {
            match Capture::new() {
                Ok(c) => rb.capture = Some(c),
                Err(e) => rb.trace_missing = Some(format!("bpf_trace_printk lines: {e}")),
            }
        }
        rb
    }

    /// Before a run: an empty trace buffer.
    pub fn before(&mut self) {
        if let Some(c) = &self.capture {
            if let Err(e) = c.clear() {
                self.trace_missing = Some(e.to_string());
            }
        }
    }

    /// After a run: this run's records and lines.
    pub fn after(&mut self) {
        for (name, ring) in &mut self.rings {
            self.records
                .entry(name.clone())
                .or_default()
                .extend(ring.take());
        }
        for (name, bufs) in &mut self.perf {
            self.records
                .entry(name.clone())
                .or_default()
                .extend(bufs.take());
            if bufs.lost() > 0 {
                self.records_missing = Some(format!(
                    "perf event array `{name}`: the kernel lost {} samples (its ring was full)",
                    bufs.lost()
                ));
            }
        }
        if let Some(c) = &self.capture {
            match c.take(self.whose) {
                Ok(l) => self.lines.extend(l),
                Err(e) => self.trace_missing = Some(e.to_string()),
            }
        }
    }

    /// Puts what was read (or why not) into the observation.
    pub fn finish(self, obs: &mut Observation) {
        match self.records_missing {
            Some(why) => {
                obs.unobserved.insert("records".into(), why);
            }
            None => obs.records = Some(self.records),
        }
        match self.trace_missing {
            Some(why) => {
                obs.unobserved.insert("trace".into(), why);
            }
            None => obs.trace = Some(self.lines),
        }
    }
}

/// A per-CPU value as the kernel gives it (one 8-byte-padded value per possible CPU) split
/// into one `value_size` value per CPU; other maps: the one value.
pub(crate) fn per_cpu_values(spec: &asm::types::MapSpec, v: Vec<u8>) -> Vec<Vec<u8>> {
    if !kernel::map::is_percpu(spec.map_type) {
        return vec![v];
    }
    let stride = (spec.value_size as usize).div_ceil(8) * 8;
    v.chunks(stride.max(1))
        .map(|c| c[..(spec.value_size as usize).min(c.len())].to_vec())
        .collect()
}
