//! Installing velos on a machine: shell completions and the man page
//! (generated from the command-line definitions), and `velos startup`,
//! the systemd unit that runs the daemon at boot.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::home::Home;

/// Options of `velos completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  velos completions bash > ~/.local/share/bash-completion/completions/velos
  velos completions zsh > ~/.zfunc/_velos      (with fpath+=~/.zfunc before compinit)
  velos completions fish > ~/.config/fish/completions/velos.fish")]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Options of `velos man`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  velos man > /usr/local/share/man/man1/velos.1 && man velos
  velos man --dir /usr/local/share/man/man1      velos.1 and one page per subcommand (velos-logs.1 …)")]
pub struct ManArgs {
    /// Write velos.1 and a page per subcommand into this directory instead of printing velos.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Options of `velos startup`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  velos startup                   print the unit for the current user and home
  sudo velos startup --install    write /etc/systemd/system/velos-<user>.service and enable it
  velos startup --user alice --home /home/alice/.velos > velos-alice.service")]
pub struct StartupArgs {
    /// Write the unit to /etc/systemd/system and enable it (needs root and systemd).
    #[arg(long)]
    install: bool,
    /// The user the daemon runs as (default: the current user).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// The daemon's home (default: $VELOS_HOME, else ~/.velos of the current user).
    #[arg(long, value_name = "DIR")]
    home: Option<PathBuf>,
}

/// Prints the completion script of `shell` for the whole command line.
pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let mut cmd = super::Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "velos", &mut out);
    Ok(0)
}

/// Prints the man page (roff), or writes every page into `--dir`.
pub fn man(args: ManArgs) -> Result<i32> {
    let cmd = super::Cli::command();
    if let Some(dir) = &args.dir {
        clap_mangen::generate_to(cmd, dir).with_context(|| {
            format!(
                "writing man pages into {}: give an existing, writable directory",
                dir.display()
            )
        })?;
        return Ok(0);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut page)
        .context("rendering the man page")?;
    write_out(&page)
}

fn write_out(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing output"),
        _ => Ok(0),
    }
}

/// What the unit is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSpec {
    /// The user the daemon runs as.
    pub user: String,
    /// That user's home directory (`HOME` of the daemon).
    pub user_home: PathBuf,
    /// The daemon's runtime home.
    pub velos_home: PathBuf,
    /// The velos binary.
    pub exe: PathBuf,
}

impl UnitSpec {
    /// The unit's file name: `velos-<user>.service`.
    pub fn file_name(&self) -> String {
        format!("velos-{}.service", self.user)
    }

    /// The unit file's text.
    pub fn render(&self) -> String {
        format!(
            "\
[Unit]
Description=velos process manager ({user}, {velos_home})
Documentation=man:velos(1)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={user}
Environment={home_env}
Environment={velos_env}
Environment={path_env}
ExecStart={exe} daemon --foreground
# The daemon stops its processes itself on SIGTERM; what is left after the
# timeout is killed.
KillMode=mixed
TimeoutStopSec=30
Restart=always
RestartSec=2
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
",
            user = self.user,
            velos_home = self.velos_home.display(),
            home_env = systemd_quote(&format!("HOME={}", self.user_home.display())),
            velos_env = systemd_quote(&format!("VELOS_HOME={}", self.velos_home.display())),
            path_env = systemd_quote(&format!(
                "PATH={}",
                std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())
            )),
            exe = systemd_quote(&self.exe.display().to_string()),
        )
    }
}

/// Quotes a word for a unit file when it needs it (spaces, quotes,
/// backslashes); `%` is doubled, as systemd expands specifiers.
fn systemd_quote(word: &str) -> String {
    let word = word.replace('%', "%%");
    if word
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'\'')
    {
        word
    } else {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Prints the systemd unit, or writes and enables it with `--install`.
pub fn startup(args: StartupArgs) -> Result<i32> {
    let spec = unit_spec(&args)?;
    let unit = spec.render();
    if !args.install {
        return write_out(unit.as_bytes());
    }
    if !Path::new("/run/systemd/system").is_dir() {
        bail!(
            "systemd is not running on this machine (no /run/systemd/system): run `velos startup` and install the unit with your init system, or start `velos daemon` from your boot scripts"
        );
    }
    let path = Path::new("/etc/systemd/system").join(spec.file_name());
    std::fs::write(&path, unit).with_context(|| {
        format!(
            "writing {}: run `sudo velos startup --install --user {} --home {}`",
            path.display(),
            spec.user,
            spec.velos_home.display()
        )
    })?;
    for argv in [
        &["daemon-reload"][..],
        &["enable", "--now", &spec.file_name()][..],
    ] {
        let status = std::process::Command::new("systemctl")
            .args(argv)
            .status()
            .with_context(|| format!("running systemctl {}", argv.join(" ")))?;
        if !status.success() {
            bail!(
                "systemctl {} failed ({status}); the unit is at {}",
                argv.join(" "),
                path.display()
            );
        }
    }
    eprintln!(
        "velos: wrote {} and enabled it: the daemon and its saved processes start at boot",
        path.display()
    );
    Ok(0)
}

fn unit_spec(args: &StartupArgs) -> Result<UnitSpec> {
    let (user, user_home) = match &args.user {
        Some(name) => {
            let home = home_of(name).with_context(|| {
                format!("no user `{name}` in /etc/passwd: give an existing user")
            })?;
            (name.clone(), home)
        }
        None => current_user()?,
    };
    let velos_home = match &args.home {
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("invalid --home {}", dir.display()))?
        }
        None if args.user.is_some() => user_home.join(".velos"),
        None => Home::from_env()?.root().to_path_buf(),
    };
    let exe = std::env::current_exe().context("locating the velos binary")?;
    Ok(UnitSpec {
        user,
        user_home,
        velos_home,
        exe,
    })
}

/// The current user's name and home directory, from the password database.
fn current_user() -> Result<(String, PathBuf)> {
    let uid = rustix::process::getuid().as_raw();
    let entry = passwd_entries()?
        .into_iter()
        .find(|e| e.uid == uid)
        .with_context(|| format!("uid {uid} has no entry in /etc/passwd: use --user NAME"))?;
    Ok((entry.name, entry.home))
}

fn home_of(name: &str) -> Option<PathBuf> {
    passwd_entries()
        .ok()?
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| e.home)
}

struct PasswdEntry {
    name: String,
    uid: u32,
    home: PathBuf,
}

fn passwd_entries() -> Result<Vec<PasswdEntry>> {
    let text = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() >= 7).then(|| PasswdEntry {
                name: fields[0].to_string(),
                uid: fields[2].parse().unwrap_or(u32::MAX),
                home: PathBuf::from(fields[5]),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_plain_words_and_quotes_the_rest() {
        assert_eq!(systemd_quote("/usr/bin/velos"), "/usr/bin/velos");
        assert_eq!(systemd_quote("HOME=/home/a b"), "\"HOME=/home/a b\"");
        assert_eq!(systemd_quote("a%b"), "a%%b");
        assert_eq!(systemd_quote("x\"y"), "\"x\\\"y\"");
    }
}
