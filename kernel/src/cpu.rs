//! CPUs: how many the kernel lays per-CPU values out for, and pinning the calling thread to
//! one so a test run happens there.

use crate::error::Error;

/// The number of possible CPUs (`num_possible_cpus()`): per-CPU map values hold one
/// 8-byte-padded value for each. The kernel lists them as ranges such as "0-3,5".
pub fn possible() -> usize {
    let Ok(text) = std::fs::read_to_string("/sys/devices/system/cpu/possible") else {
        return 1;
    };
    let mut n = 0;
    for part in text.trim().split(',') {
        let mut ends = part.split('-').filter_map(|s| s.parse::<usize>().ok());
        match (ends.next(), ends.next()) {
            (Some(a), Some(b)) if b >= a => n += b - a + 1,
            (Some(_), None) => n += 1,
            _ => {}
        }
    }
    n.max(1)
}

/// The calling thread pinned to one CPU; the previous affinity comes back on drop.
#[derive(Debug)]
pub struct Pin {
    previous: libc::cpu_set_t,
}

impl Pin {
    /// Pins the calling thread to `cpu` (`sched_setaffinity`). Error: the CPU does not
    /// exist or is not allowed to this thread.
    pub fn to(cpu: u32) -> Result<Pin, Error> {
        let cpu = cpu as usize;
        // CPU_SETSIZE bits: larger numbers cannot be expressed in a cpu_set_t.
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(Error::Input(format!(
                "CPU {cpu} is beyond the {} CPUs sched_setaffinity can name",
                libc::CPU_SETSIZE
            )));
        }
        // SAFETY: cpu_set_t is plain bits; all zeros is the empty set.
        let mut previous: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `previous` is a valid cpu_set_t of `size` bytes for the kernel to fill;
        // pid 0 is the calling thread.
        if unsafe { libc::sched_getaffinity(0, size, &mut previous) } != 0 {
            return Err(Error::Input(format!(
                "sched_getaffinity: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: as above, all zeros is the empty set.
        let mut want: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `cpu` is below CPU_SETSIZE (checked above).
        unsafe { libc::CPU_SET(cpu, &mut want) };
        // SAFETY: `want` is a valid cpu_set_t of `size` bytes, only read by the kernel.
        if unsafe { libc::sched_setaffinity(0, size, &want) } != 0 {
            return Err(Error::Input(format!(
                "cannot run on CPU {cpu} (sched_setaffinity: {}; {} possible CPUs)",
                std::io::Error::last_os_error(),
                possible()
            )));
        }
        Ok(Pin { previous })
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        // SAFETY: `previous` is the set sched_getaffinity filled in; only read. A failure
        // leaves the thread pinned, which is harmless.
        unsafe {
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &self.previous)
        };
    }
}
