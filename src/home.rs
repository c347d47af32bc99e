//! The runtime home: the one directory where the daemon keeps its socket,
//! pid file, configuration, process table and logs.
//!
//! `$VELOS_HOME` when set (made absolute), otherwise `~/.velos/`:
//!
//! ```text
//! velos.sock    the daemon's Unix socket (0600)
//! velos.pid     the daemon's pid, locked while it runs
//! daemon.log    the daemon's own events (JSON lines), rotated daemon.log.1 …
//! config.toml   optional settings ([logs] max_size, keep)
//! state.json    the process table, rewritten atomically on every change
//! logs/         <name>.log (JSON lines), <name>-out.log / <name>-err.log (--raw),
//!               rotated files <file>.1 … <file>.N
//! ```
//!
//! # Who may touch it
//!
//! Like ssh and gpg with their directories, velos only uses a home that no
//! other user can change: the home and `logs/` must be owned by the user
//! running velos and not writable by group or others, and every directory
//! above the home must be owned by that user or root and not writable by
//! others unless sticky (as `/tmp` is). Otherwise [`Home::ensure`] and
//! [`Home::check`] refuse with [`HomeError::Insecure`], naming the path and
//! the fix. A home or `logs/` that is merely readable by others is
//! tightened to 0700. Files in the home are opened with [`open_private`]:
//! symbolic links are not followed, and a file that is not a regular file
//! owned by the user, or that has other hard links, is refused.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Environment variable naming the runtime home.
pub const HOME_ENV: &str = "VELOS_HOME";

/// Why the runtime home cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `$VELOS_HOME` nor `$HOME` is set.
    #[error("cannot locate the runtime home: set VELOS_HOME (or HOME)")]
    Unset,
    /// The directory could not be made absolute, created or secured.
    #[error("cannot prepare the runtime home {path}: {source}")]
    Io {
        /// The directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Another user could change the home or what is in it.
    #[error("refusing to use {home} as the runtime home: {problem}; {fix}")]
    Insecure {
        /// The home.
        home: PathBuf,
        /// The directory at fault (the home, `logs/`, or one above them).
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// What to do.
        fix: String,
    },
}

/// Paths inside the runtime home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

/// The effective user id of this process.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

impl Home {
    /// The home named by `$VELOS_HOME`, else `$HOME/.velos`.
    pub fn from_env() -> Result<Home, HomeError> {
        let root = match std::env::var_os(HOME_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => match std::env::var_os("HOME") {
                Some(home) if !home.is_empty() => PathBuf::from(home).join(".velos"),
                _ => return Err(HomeError::Unset),
            },
        };
        Home::new(root)
    }

    /// A home rooted at `root` (made absolute against the current directory).
    pub fn new(root: impl AsRef<Path>) -> Result<Home, HomeError> {
        let root = root.as_ref();
        let root = std::path::absolute(root).map_err(|source| HomeError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Home { root })
    }

    /// Creates the home and its `logs/` directory (mode 0700) if missing,
    /// refuses them if another user could change them (see the module
    /// documentation), and tightens their mode to 0700.
    pub fn ensure(&self) -> Result<(), HomeError> {
        // Nothing is created under a directory another user controls.
        self.check_ancestors(true)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(|source| self.io(&self.root, source))?;
        self.secure(true)
    }

    /// Checks an existing home as [`ensure`](Self::ensure) does, without
    /// creating or changing anything; a home that does not exist is fine.
    pub fn check(&self) -> Result<(), HomeError> {
        match fs::metadata(&self.root) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            _ => self.secure(false),
        }
    }

    fn io(&self, path: &Path, source: io::Error) -> HomeError {
        HomeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Checks the directories above the home; with `skip_missing`, those
    /// that do not exist yet are passed over.
    fn check_ancestors(&self, skip_missing: bool) -> Result<(), HomeError> {
        let me = euid();
        let Some(parent) = self.root.parent() else {
            return Ok(());
        };
        for dir in parent.ancestors() {
            let meta = match fs::metadata(dir) {
                Ok(meta) => meta,
                Err(err) if skip_missing && err.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(self.io(dir, source)),
            };
            check_ancestor(dir, &meta, me).map_err(|refusal| refusal.into_error(self))?;
        }
        Ok(())
    }

    fn secure(&self, repair: bool) -> Result<(), HomeError> {
        let me = euid();
        self.check_ancestors(false)?;
        let meta = fs::metadata(&self.root).map_err(|source| self.io(&self.root, source))?;
        check_own_dir(&self.root, &meta, me).map_err(|refusal| refusal.into_error(self))?;
        if repair {
            tighten(&self.root, &meta).map_err(|source| self.io(&self.root, source))?;
        }
        let logs = self.logs_dir();
        if repair {
            match fs::DirBuilder::new().mode(0o700).create(&logs) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(self.io(&logs, source)),
            }
        }
        let meta = match fs::symlink_metadata(&logs) {
            Ok(meta) => meta,
            Err(err) if !repair && err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(self.io(&logs, source)),
        };
        if meta.file_type().is_symlink() {
            return Err(Refusal {
                path: logs.clone(),
                problem: format!("{} is a symbolic link", logs.display()),
                fix: format!(
                    "remove it (`rm {}`) and velos creates the directory",
                    logs.display()
                ),
            }
            .into_error(self));
        }
        check_own_dir(&logs, &meta, me).map_err(|refusal| refusal.into_error(self))?;
        if repair {
            tighten(&logs, &meta).map_err(|source| self.io(&logs, source))?;
        }
        Ok(())
    }

    /// The home directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `velos.sock`.
    pub fn socket(&self) -> PathBuf {
        self.root.join("velos.sock")
    }

    /// `velos.pid`.
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("velos.pid")
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `state.json`.
    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `daemon.log`: the daemon's own events, as JSON lines. It lives beside
    /// `logs/`, not in it, so that no process name can lead to it.
    pub fn daemon_log(&self) -> PathBuf {
        self.root.join("daemon.log")
    }

    /// `logs/<name>.log`: a process's structured log (JSON lines).
    pub fn process_log(&self, name: &str) -> PathBuf {
        let [json, _, _] = process_log_files(&self.logs_dir(), name);
        json
    }

    /// `logs/<name>-out.log`: a `--raw` process's stdout, bytes as printed.
    pub fn raw_out_log(&self, name: &str) -> PathBuf {
        let [_, out, _] = process_log_files(&self.logs_dir(), name);
        out
    }

    /// `logs/<name>-err.log`: a `--raw` process's stderr, bytes as printed.
    pub fn raw_err_log(&self, name: &str) -> PathBuf {
        let [_, _, err] = process_log_files(&self.logs_dir(), name);
        err
    }

    /// The daemon's pid as written in `velos.pid`, if the file holds one.
    pub fn read_pid(&self) -> Option<u32> {
        let mut text = String::new();
        let mut file = open_private(&self.pid_file(), OpenOptions::new().read(true)).ok()?;
        io::Read::read_to_string(&mut file, &mut text).ok()?;
        text.trim().parse().ok()
    }
}

/// Why a directory is refused, before it is tied to its home.
struct Refusal {
    path: PathBuf,
    problem: String,
    fix: String,
}

impl Refusal {
    fn into_error(self, home: &Home) -> HomeError {
        HomeError::Insecure {
            home: home.root.clone(),
            path: self.path,
            problem: self.problem,
            fix: self.fix,
        }
    }
}

fn insecure(path: &Path, problem: String, fix: String) -> Refusal {
    Refusal {
        path: path.to_path_buf(),
        problem,
        fix,
    }
}

/// A directory above the home: owned by root or us, and not writable by
/// others unless sticky.
fn check_ancestor(dir: &Path, meta: &fs::Metadata, me: u32) -> Result<(), Refusal> {
    let mode = meta.mode();
    if meta.uid() != 0 && meta.uid() != me {
        return Err(insecure(
            dir,
            format!(
                "{} is owned by uid {}, who could replace the home",
                dir.display(),
                meta.uid()
            ),
            "set VELOS_HOME to a directory whose parents belong to you or root".into(),
        ));
    }
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(insecure(
            dir,
            format!(
                "{} is writable by other users (mode {:04o}) and not sticky",
                dir.display(),
                mode & 0o7777
            ),
            format!(
                "run `chmod go-w {}`, or set VELOS_HOME to a directory in a safe place",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// The home or `logs/`: a directory owned by us, not writable by others.
fn check_own_dir(dir: &Path, meta: &fs::Metadata, me: u32) -> Result<(), Refusal> {
    if !meta.is_dir() {
        return Err(insecure(
            dir,
            format!("{} is not a directory", dir.display()),
            "remove it or set VELOS_HOME to another directory".into(),
        ));
    }
    if meta.uid() != me {
        return Err(insecure(
            dir,
            format!(
                "{} is owned by uid {}, not by you (uid {me})",
                dir.display(),
                meta.uid()
            ),
            format!(
                "set VELOS_HOME to a directory you own, or `chown -R {me} {}` if you trust its content",
                dir.display()
            ),
        ));
    }
    let mode = meta.mode();
    if mode & 0o022 != 0 {
        return Err(insecure(
            dir,
            format!(
                "{} is writable by other users (mode {:04o})",
                dir.display(),
                mode & 0o7777
            ),
            format!("check what is in it, then `chmod 700 {}`", dir.display()),
        ));
    }
    Ok(())
}

fn tighten(dir: &Path, meta: &fs::Metadata) -> io::Result<()> {
    if meta.mode() & 0o7777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The current log files of process `name`, as named in `logs/`: its
/// structured log `<name>.log` (JSON lines), then the `--raw` files
/// `<name>-out.log` (stdout) and `<name>-err.log` (stderr). Rotated files
/// add `.1`, `.2` … (and `.gz`) to these names.
pub fn process_log_names(name: &str) -> [String; 3] {
    [
        format!("{name}.log"),
        format!("{name}-out.log"),
        format!("{name}-err.log"),
    ]
}

/// [`process_log_names`] in `logs_dir`.
pub fn process_log_files(logs_dir: &Path, name: &str) -> [PathBuf; 3] {
    process_log_names(name).map(|file| logs_dir.join(file))
}

/// Opens a file of the home as `options` say, without following a symbolic
/// link in its last component, and refuses anything but a regular file
/// owned by this user with no other hard link. New files get mode 0600.
pub fn open_private(path: &Path, options: &OpenOptions) -> io::Result<File> {
    let mut options = options.clone();
    // O_NONBLOCK keeps a FIFO put in place of a file from blocking the open;
    // it changes nothing for regular files.
    options
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    let file = options.open(path).map_err(|err| {
        if err.raw_os_error() == Some(libc::ELOOP) {
            io::Error::other(format!(
                "{} is a symbolic link, which velos does not follow in its home; remove it",
                path.display()
            ))
        } else {
            err
        }
    })?;
    let meta = file.metadata()?;
    let refuse = |what: String| {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} {what}; remove it", path.display()),
        ))
    };
    if !meta.is_file() {
        return refuse("is not a regular file".into());
    }
    if meta.uid() != euid() {
        return refuse(format!("is owned by uid {}, not by you", meta.uid()));
    }
    if meta.nlink() > 1 {
        return refuse(format!("has {} hard links", meta.nlink()));
    }
    Ok(file)
}

/// Creates `path` anew (`O_EXCL`), removing whatever was there first (a
/// leftover file or a link, which is removed, not followed).
pub fn create_private(path: &Path, options: &OpenOptions) -> io::Result<File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let mut options = options.clone();
    options.write(true).create_new(true);
    open_private(path, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_fifos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"secret").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_private(&link, OpenOptions::new().append(true)).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read(&target).unwrap(), b"secret");

        let hard = dir.path().join("hard");
        fs::hard_link(&target, &hard).unwrap();
        assert!(open_private(&hard, OpenOptions::new().read(true)).is_err());

        let fifo = dir.path().join("fifo");
        let fifo_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo on a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo_path.as_ptr(), 0o600) }, 0);
        assert!(open_private(&fifo, OpenOptions::new().read(true)).is_err());

        // A new file replaces a link instead of writing through it.
        let mut file = create_private(&link, OpenOptions::new().write(true)).unwrap();
        io::Write::write_all(&mut file, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"secret");
        assert_eq!(fs::read(&link).unwrap(), b"new");
    }

    #[test]
    fn loose_homes() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("h")).unwrap();
        home.ensure().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(home.root()), 0o700);
        assert_eq!(mode(&home.logs_dir()), 0o700);
        // Readable by others: tightened.
        fs::set_permissions(home.logs_dir(), fs::Permissions::from_mode(0o755)).unwrap();
        home.ensure().unwrap();
        assert_eq!(mode(&home.logs_dir()), 0o700);
        // Writable by others: refused, naming the directory.
        fs::set_permissions(home.logs_dir(), fs::Permissions::from_mode(0o777)).unwrap();
        let err = home.ensure().unwrap_err().to_string();
        assert!(err.contains("logs") && err.contains("chmod 700"), "{err}");
        assert!(home.check().is_err());
        fs::set_permissions(home.logs_dir(), fs::Permissions::from_mode(0o700)).unwrap();
        // logs/ as a link: refused.
        fs::remove_dir(home.logs_dir()).unwrap();
        std::os::unix::fs::symlink(dir.path(), home.logs_dir()).unwrap();
        let err = home.ensure().unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
