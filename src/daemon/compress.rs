//! Compressed rotation and retention of rotated log files
//! (`[logs] compress` and `max_age` in `config.toml`).
//!
//! A rotated set is a file and its older parts: `<file>.1` (the newest)
//! … `<file>.N`, each part either plain or gzipped (`<file>.3.gz`), never
//! both. Renaming members of a set ([`shift`], used by rotation, and
//! publishing a compressed part) happens under one lock, so a part is
//! always found under exactly one name.
//!
//! Rotation only renames: the capture thread never compresses. One worker
//! thread, started on first use and running at a lower priority (nice 10),
//! gzips plain parts (flate2): it reads the
//! part through an open descriptor, which stays valid if rotation renames
//! the part meanwhile, writes `<file>.gz.tmp`, then, under the lock, finds
//! where the part is now (by inode), renames the temporary file over
//! `<part>.gz` and removes the plain part; a part dropped by rotation in the
//! meantime is simply not published. The compressed part keeps the plain
//! part's modification time, which is what `max_age` looks at.
//!
//! With `max_age`, parts last modified longer ago than that are deleted
//! when the set rotates, when its file is opened, and every
//! [`SWEEP_EVERY`].

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::logfile::rotated_path;

/// How often sets with a `max_age` are swept besides rotations.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Guards renames of members of every rotated set.
static SETS: Mutex<()> = Mutex::new(());

fn lock_sets() -> MutexGuard<'static, ()> {
    match SETS.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `<path>.<n>.gz`.
pub fn compressed_path(path: &Path, n: u32) -> PathBuf {
    let mut name = rotated_path(path, n).into_os_string();
    name.push(".gz");
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

fn rename_if_present(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

/// Rotates the set of `path`: parts move up one number (plain or
/// compressed), parts numbered `keep` or more are dropped, and `path`
/// becomes part 1. `keep` must be at least 1. Costs one directory listing
/// and one rename per part, whatever `keep` is.
pub fn shift(path: &Path, keep: u32) -> io::Result<()> {
    let _sets = lock_sets();
    for (n, part) in parts_of(path)?.into_iter().rev() {
        if n >= keep {
            remove_if_present(&part)?;
            continue;
        }
        let mut moved = rotated_path(path, n + 1).into_os_string();
        if part.extension().is_some_and(|e| e == "gz") {
            moved.push(".gz");
        }
        rename_if_present(&part, Path::new(&moved))?;
    }
    fs::rename(path, rotated_path(path, 1))
}

/// Removes every rotated part of `path`, plain or compressed.
pub fn remove_parts(path: &Path) -> io::Result<()> {
    let _sets = lock_sets();
    for (_, part) in parts_of(path)? {
        remove_if_present(&part)?;
    }
    Ok(())
}

/// A set to tend, and how.
type Job = (PathBuf, Policy);

/// What to do with a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Gzip plain parts.
    pub compress: bool,
    /// Delete parts older than this.
    pub max_age: Option<Duration>,
}

/// Asks the worker to compress and sweep the set of `path` now, and to
/// sweep it every [`SWEEP_EVERY`] after. Does nothing when the policy asks
/// for nothing. The worker reports failures in `daemon.log` beside the
/// set; a part it could not compress stays plain.
pub fn tend(path: &Path, policy: Policy) {
    if !policy.compress && policy.max_age.is_none() {
        return;
    }
    static WORKER: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("compress".into())
            .spawn(move || work(&rx))
            .ok()
            .map(|_| Mutex::new(tx))
    });
    if let Some(tx) = worker {
        let tx = match tx.lock() {
            Ok(tx) => tx,
            Err(poisoned) => poisoned.into_inner(),
        };
        let _ = tx.send((path.to_path_buf(), policy));
    }
}

/// Niceness of the worker thread: compression yields the CPU to capture.
const WORKER_NICENESS: libc::c_int = 10;

fn work(rx: &mpsc::Receiver<Job>) {
    // SAFETY: plain syscalls on this thread's own id; on Linux the
    // priority of a thread id applies to that thread alone.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, WORKER_NICENESS);
    }
    let mut sets: BTreeMap<PathBuf, Policy> = BTreeMap::new();
    loop {
        match rx.recv_timeout(SWEEP_EVERY) {
            Ok((path, policy)) => {
                report(&path, tend_now(&path, policy));
                sets.insert(path, policy);
            }
            Err(RecvTimeoutError::Timeout) => {
                for (path, policy) in &sets {
                    report(path, tend_now(path, *policy));
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn report(path: &Path, result: io::Result<()>) {
    if let (Err(err), Some(dir)) = (result, path.parent()) {
        super::events::DaemonLog::open(dir.join("daemon.log"), Default::default()).error(&format!(
            "cannot compress or expire the rotated files of {}: {err}",
            path.display()
        ));
    }
}

/// Compresses the plain parts of the set of `path` (when asked) and
/// deletes parts past `max_age`, in this thread.
pub fn tend_now(path: &Path, policy: Policy) -> io::Result<()> {
    if policy.compress {
        for (n, file) in plain_parts(path)? {
            compress_part(path, n, &file)?;
        }
    }
    if let Some(max_age) = policy.max_age {
        sweep(path, max_age)?;
    }
    Ok(())
}

/// The plain parts of the set, opened, under the lock.
fn plain_parts(path: &Path) -> io::Result<Vec<(u32, File)>> {
    let _sets = lock_sets();
    let mut parts = Vec::new();
    for (n, part) in parts_of(path)? {
        if part.extension().is_some_and(|e| e == "gz") {
            continue;
        }
        match File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&part)
        {
            Ok(file) => parts.push((n, file)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(parts)
}

/// Every numbered part of the set (`<file>.N` and `<file>.N.gz`).
fn parts_of(path: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let (Some(dir), Some(base)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Ok(Vec::new());
    };
    let mut parts = Vec::new();
    for entry in fs::read_dir(dir)?.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|name| name.strip_prefix(base))
            .and_then(|rest| rest.strip_prefix('.'))
        else {
            continue;
        };
        let number = rest.strip_suffix(".gz").unwrap_or(rest);
        if let Ok(n) = number.parse::<u32>() {
            parts.push((n, entry.path()));
        }
    }
    parts.sort();
    Ok(parts)
}

fn compress_part(path: &Path, n: u32, plain: &File) -> io::Result<()> {
    let meta = plain.metadata()?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".gz.tmp");
    let tmp = PathBuf::from(tmp_name);
    let written = (|| {
        let out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        let mut encoder = GzEncoder::new(
            BufWriter::with_capacity(256 * 1024, out),
            Compression::default(),
        );
        io::copy(
            &mut io::BufReader::with_capacity(256 * 1024, plain),
            &mut encoder,
        )?;
        let out = encoder
            .finish()?
            .into_inner()
            .map_err(|err| err.into_error())?;
        out.sync_data()?;
        out.set_modified(meta.modified()?)?;
        Ok::<_, io::Error>(())
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&tmp);
        return Err(err);
    }
    let _sets = lock_sets();
    // Where the part is now: rotation may have moved it up, or dropped it.
    let found = (n..=n.saturating_add(1024))
        .map(|k| rotated_path(path, k))
        .find(|candidate| {
            fs::symlink_metadata(candidate)
                .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
        });
    let Some(part) = found else {
        return remove_if_present(&tmp);
    };
    let mut gz = part.as_os_str().to_owned();
    gz.push(".gz");
    fs::rename(&tmp, PathBuf::from(gz))?;
    remove_if_present(&part)
}

fn sweep(path: &Path, max_age: Duration) -> io::Result<()> {
    let Some(cutoff) = SystemTime::now().checked_sub(max_age) else {
        return Ok(());
    };
    let _sets = lock_sets();
    for (_, part) in parts_of(path)? {
        let old = fs::symlink_metadata(&part)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified < cutoff);
        if old {
            remove_if_present(&part)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    fn gunzip(path: &Path) -> String {
        let mut text = String::new();
        GzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn shift_compress_and_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        let compress = Policy {
            compress: true,
            max_age: None,
        };
        for n in 0..4 {
            fs::write(&log, format!("part {n}\n")).unwrap();
            shift(&log, 3).unwrap();
            tend_now(&log, compress).unwrap();
        }
        assert!(!log.exists());
        for (n, text) in [(1, "part 3\n"), (2, "part 2\n"), (3, "part 1\n")] {
            assert!(!rotated_path(&log, n).exists());
            assert_eq!(gunzip(&compressed_path(&log, n)), text);
        }
        assert!(!compressed_path(&log, 4).exists());
        assert!(!dir.path().join("a.log.gz.tmp").exists());

        // A part moved up while it was being compressed is published
        // under its new number.
        fs::write(&log, "part 4\n").unwrap();
        shift(&log, 3).unwrap();
        let (n, file) = plain_parts(&log).unwrap().pop().unwrap();
        fs::write(&log, "part 5\n").unwrap();
        shift(&log, 3).unwrap();
        compress_part(&log, n, &file).unwrap();
        assert_eq!(gunzip(&compressed_path(&log, 2)), "part 4\n");
        assert_eq!(
            fs::read_to_string(rotated_path(&log, 1)).unwrap(),
            "part 5\n"
        );
        assert!(!compressed_path(&log, 1).exists());

        // Old parts go; the current file stays whatever its age.
        let old = SystemTime::now() - Duration::from_secs(30 * 86_400);
        for part in [compressed_path(&log, 3), rotated_path(&log, 1)] {
            File::options()
                .append(true)
                .open(&part)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        fs::write(&log, "current\n").unwrap();
        File::options()
            .append(true)
            .open(&log)
            .unwrap()
            .set_modified(old)
            .unwrap();
        tend_now(
            &log,
            Policy {
                compress: false,
                max_age: Some(Duration::from_secs(14 * 86_400)),
            },
        )
        .unwrap();
        assert!(!compressed_path(&log, 3).exists());
        assert!(!rotated_path(&log, 1).exists());
        assert!(compressed_path(&log, 2).exists());
        assert!(log.exists());

        remove_parts(&log).unwrap();
        assert!(!compressed_path(&log, 2).exists());
    }
}
