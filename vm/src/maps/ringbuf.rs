//! `BPF_MAP_TYPE_RINGBUF` (`kernel/bpf/ringbuf.c`): reserve, submit, discard, and the
//! records a consumer would read.

use super::{inval, Map, MapError, RecState, Record, Store, RINGBUF_HDR};

impl Map {
    /// Reserves `len` bytes; returns the payload's offset in the data area.
    pub(crate) fn ringbuf_reserve(&mut self, len: usize) -> Result<usize, MapError> {
        let cap = self.values.len();
        let Store::RingBuf { used, records } = &mut self.store else {
            return inval("not a ring buffer");
        };
        let need = len
            .div_ceil(8)
            .saturating_mul(8)
            .saturating_add(RINGBUF_HDR);
        if need > cap - *used {
            return Err(MapError::NoSpace);
        }
        let off = *used + RINGBUF_HDR;
        // The header is the record length with the busy bit, as the kernel writes it.
        let hdr = (len as u32) | (1 << 31);
        self.values[*used..*used + 4].copy_from_slice(&hdr.to_le_bytes());
        *used += need;
        records.push(Record {
            off,
            len,
            state: RecState::Busy,
        });
        Ok(off)
    }

    /// Commits (`submit`) or drops (`discard`) the record whose payload is at `off`.
    pub(crate) fn ringbuf_finish(&mut self, off: usize, commit: bool) -> Result<(), String> {
        let Store::RingBuf { records, .. } = &mut self.store else {
            return Err("not a ring buffer".into());
        };
        let rec = records
            .iter_mut()
            .find(|r| r.off == off && r.state == RecState::Busy)
            .ok_or_else(|| format!("no reserved ring buffer record at offset {off}"))?;
        rec.state = if commit {
            RecState::Committed
        } else {
            RecState::Discarded
        };
        let hdr = (rec.len as u32) | if commit { 0 } else { 1 << 30 };
        self.values[off - RINGBUF_HDR..off - RINGBUF_HDR + 4].copy_from_slice(&hdr.to_le_bytes());
        Ok(())
    }

    /// Committed ring buffer records not yet consumed, oldest first.
    /// A perf event array's samples count as records too (their data; see
    /// [`Map::perf_records`] for index and CPU).
    pub fn records(&self) -> Vec<Vec<u8>> {
        match &self.store {
            Store::Perf(_) => self.perf_records().iter().map(|r| r.data.clone()).collect(),
            Store::RingBuf { records, .. } => records
                .iter()
                .filter(|r| r.state == RecState::Committed)
                .map(|r| self.values[r.off..r.off + r.len].to_vec())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Consumes the ring buffer: returns the committed records and frees the space of every
    /// finished record (a busy record and everything after it stay, as for a real consumer).
    pub fn take_records(&mut self) -> Vec<Vec<u8>> {
        if let Store::Perf(_) = self.store {
            return self
                .take_perf_records()
                .into_iter()
                .map(|r| r.data)
                .collect();
        }
        let out = self.records();
        if let Store::RingBuf { used, records } = &mut self.store {
            if records.iter().all(|r| r.state != RecState::Busy) {
                records.clear();
                *used = 0;
            } else {
                records.retain(|r| r.state == RecState::Busy);
            }
        }
        out
    }
}
