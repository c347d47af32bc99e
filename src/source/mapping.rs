//! Memory-mapped files that survive being truncated while mapped.
//!
//! Reading a mapped page past the end of a file that shrank raises SIGBUS,
//! which would kill the process. Each [`MappedFile`] registers its address
//! range; a process-wide SIGBUS handler that finds the faulting address in a
//! registered range maps a zero page over it (so the read completes with
//! zeros) and marks the mapping truncated. The engine checks
//! [`MappedFile::truncated`] before it trusts what it read, and falls back to
//! reading the file. Faults outside registered ranges keep the default
//! behaviour.

use std::fs::File;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use memmap2::{Mmap, MmapOptions};

const SLOTS: usize = 64;

struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    truncated: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    truncated: AtomicBool::new(false),
};

static SLOTS_TABLE: [Slot; SLOTS] = [EMPTY_SLOT; SLOTS];
static INSTALL: Once = Once::new();

/// A read-only mapping of a whole file, guarded against truncation.
pub struct MappedFile {
    map: Mmap,
    slot: Option<usize>,
}

impl MappedFile {
    /// Maps `file` (whose length is `len`, non-zero). Mapping fails on files
    /// that cannot be mapped (pipes, some special files): read them instead.
    pub fn map(file: &File, len: usize) -> std::io::Result<MappedFile> {
        INSTALL.call_once(install_handler);
        // SAFETY: the mapping is read-only and private to this process; a
        // concurrent truncation is caught by the SIGBUS guard below.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        let slot = register(map.as_ptr() as usize, len);
        Ok(MappedFile { map, slot })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Maps the pages of `range` ahead of reading them (one call instead of
    /// a fault per page). Best effort: kernels without
    /// `MADV_POPULATE_READ`, or a file shorter than the range, just fault
    /// as usual.
    pub fn populate(&self, start: usize, end: usize) {
        #[cfg(target_os = "linux")]
        {
            let page = page_size();
            let aligned = start & !(page - 1);
            let end = end.min(self.map.len());
            if end > aligned {
                let _ =
                    self.map
                        .advise_range(memmap2::Advice::PopulateRead, aligned, end - aligned);
            }
        }
    }

    /// Whether a read hit a page past the file's current end (the file was
    /// truncated while mapped). Bytes read from such pages are zeros.
    pub fn truncated(&self) -> bool {
        self.slot
            .is_some_and(|i| SLOTS_TABLE[i].truncated.load(Ordering::Acquire))
    }

    /// Whether the guard covers this mapping (all slots may be taken when
    /// very many files are open at once).
    pub fn guarded(&self) -> bool {
        self.slot.is_some()
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            SLOTS_TABLE[i].end.store(0, Ordering::Release);
            SLOTS_TABLE[i].start.store(0, Ordering::Release);
            SLOTS_TABLE[i].truncated.store(false, Ordering::Release);
        }
    }
}

fn register(start: usize, len: usize) -> Option<usize> {
    for (i, slot) in SLOTS_TABLE.iter().enumerate() {
        if slot
            .start
            .compare_exchange(0, start, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            slot.truncated.store(false, Ordering::Release);
            slot.end.store(start + len, Ordering::Release);
            return Some(i);
        }
    }
    None
}

fn install_handler() {
    // SAFETY: plain sigaction setup with a handler that only uses atomics
    // and mmap.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    for slot in &SLOTS_TABLE {
        let start = slot.start.load(Ordering::Acquire);
        let end = slot.end.load(Ordering::Acquire);
        if start != 0 && addr >= start && addr < end {
            let page = page_size();
            let base = addr & !(page - 1);
            // SAFETY: replaces one page of our own read-only file mapping
            // with zeros; the mapping stays owned by its MappedFile.
            let mapped = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if mapped != libc::MAP_FAILED {
                slot.truncated.store(true, Ordering::Release);
                return;
            }
        }
    }
    // Not ours: restore the default action; the fault repeats and kills the
    // process as it would have without us.
    // SAFETY: resetting a signal disposition is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf is async-signal-safe and has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn truncation_while_mapped_reads_zeros_and_is_flagged() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let page = page_size();
        file.write_all(&vec![b'x'; page * 4]).unwrap();
        file.flush().unwrap();
        let mapped = MappedFile::map(file.as_file(), page * 4).unwrap();
        assert!(mapped.guarded());
        assert_eq!(mapped.bytes()[page * 3], b'x');
        file.as_file().set_len(page as u64).unwrap();
        let tail = &mapped.bytes()[page * 2..];
        let sum: u64 = tail.iter().map(|&b| u64::from(b)).sum();
        assert_eq!(sum, 0);
        assert!(mapped.truncated());
        assert_eq!(mapped.bytes()[0], b'x');
    }
}
