//! App files: several processes described in one TOML file, for
//! `velos start|reload|stop|restart|delete apps.toml`.
//!
//! ```toml
//! [apps.web]
//! cmd = ["node", "server.js"]        # or a string run by sh -c
//! cwd = "/srv/web"                    # relative paths are relative to the file
//! env = { PORT = "8080" }
//! instances = 2                       # web-0 and web-1, with VELOS_INSTANCE=0/1
//! autorestart = true
//! max_restarts = 10
//! kill_timeout = "5s"
//! max_memory_restart = "300MiB"
//! cron_restart = "0 3 * * *"
//! watch = ["src", "config"]           # restart on change, debounced
//! watch_ignore = ["*.log", "node_modules"]
//! raw = false
//! ```
//!
//! [`AppFile::load`] checks the whole file before anything starts: unknown
//! keys, wrong types, bad durations, sizes, cron expressions or globs, a
//! working directory or watched path that does not exist, and two apps
//! giving processes the same name are each refused with the file, the line
//! and the key named ([`AppFileError`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::cron::Schedule;
use super::supervisor::validate_name;
use crate::config::{key_at, line_of, with_nearest_key};
use crate::ipc::proto::{DEFAULT_KILL_TIMEOUT_MS, DEFAULT_MAX_RESTARTS};
use crate::ipc::{AppOptions, StartSpec};
use crate::text::{parse_duration, parse_size};

/// Most instances one app may ask for.
pub const MAX_INSTANCES: u32 = 256;

/// The environment variable giving each instance its number.
pub const INSTANCE_VAR: &str = "VELOS_INSTANCE";

/// Why an app file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AppFileError {
    /// The file cannot be read.
    #[error("cannot read the app file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Something in it is wrong.
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// The key, as a dotted path (`apps.web.kill_timeout`).
        key: String,
        /// What is wrong, and how to fix it.
        message: String,
    },
}

/// A checked app file.
#[derive(Debug, Clone, PartialEq)]
pub struct AppFile {
    /// The file, absolute.
    pub path: PathBuf,
    /// Its apps, in file order.
    pub apps: Vec<App>,
}

/// One `[apps.<name>]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The app's name (the table's key).
    pub name: String,
    /// Its processes: one, or one per instance (`web-0`, `web-1`, …).
    pub specs: Vec<StartSpec>,
}

impl AppFile {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<AppFile, AppFileError> {
        let path = std::path::absolute(path).map_err(|source| AppFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = std::fs::read_to_string(&path).map_err(|source| AppFileError::Read {
            path: path.clone(),
            source,
        })?;
        AppFile::parse(&path, &text)
    }

    /// Checks the text of the file at `path` (absolute; relative paths in
    /// it are resolved against its directory).
    pub fn parse(path: &Path, text: &str) -> Result<AppFile, AppFileError> {
        let ctx = Context { path, text };
        let doc: Doc = toml::from_str(text).map_err(|err| {
            let at = err.span().map_or(0, |span| span.start);
            ctx.invalid(
                at,
                key_at(text, at),
                with_nearest_key(err.message().trim_end()),
            )
        })?;
        let mut tables: Vec<_> = doc.apps.into_iter().collect();
        tables.sort_by_key(|(name, _)| name.span().start);
        if tables.is_empty() {
            return Err(ctx.invalid(
                0,
                "apps".into(),
                "no apps; describe each one in an [apps.<name>] table with at least `cmd`".into(),
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("/"));
        let mut apps = Vec::with_capacity(tables.len());
        // Process name → (app, line) that gives it.
        let mut names: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for (name, table) in tables {
            let app = ctx.app(dir, &name, table)?;
            for spec in &app.specs {
                let line = ctx.line(name.span().start);
                if let Some((other, other_line)) = names.get(&spec.name) {
                    return Err(ctx.invalid(
                        name.span().start,
                        format!("apps.{}", name.get_ref()),
                        format!(
                            "the process name '{}' is also given by apps.{other} (line {other_line}); rename one of the apps",
                            spec.name
                        ),
                    ));
                }
                names.insert(spec.name.clone(), (name.get_ref().clone(), line));
            }
            apps.push(app);
        }
        Ok(AppFile {
            path: path.to_path_buf(),
            apps,
        })
    }

    /// Every process of the file, in file order.
    pub fn specs(&self) -> Vec<StartSpec> {
        self.apps
            .iter()
            .flat_map(|app| app.specs.iter().cloned())
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    apps: BTreeMap<Spanned<String>, Spanned<AppTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppTable {
    cmd: Spanned<toml::Value>,
    cwd: Option<Spanned<String>>,
    env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    instances: Option<Spanned<i64>>,
    autorestart: Option<bool>,
    max_restarts: Option<Spanned<i64>>,
    kill_timeout: Option<Spanned<toml::Value>>,
    max_memory_restart: Option<Spanned<toml::Value>>,
    cron_restart: Option<Spanned<String>>,
    watch: Option<Spanned<toml::Value>>,
    watch_ignore: Option<Vec<Spanned<String>>>,
    raw: Option<bool>,
}

struct Context<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Context<'_> {
    fn line(&self, at: usize) -> usize {
        line_of(self.text, at)
    }

    fn invalid(&self, at: usize, key: String, message: String) -> AppFileError {
        AppFileError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line(at),
            key,
            message,
        }
    }

    fn app(
        &self,
        dir: &Path,
        name: &Spanned<String>,
        table: Spanned<AppTable>,
    ) -> Result<App, AppFileError> {
        let app = name.get_ref().clone();
        let key = |field: &str| format!("apps.{app}.{field}");
        if let Err(message) = validate_name(&app) {
            return Err(self.invalid(
                name.span().start,
                format!("apps.{app}"),
                message.replace("--name", "app name"),
            ));
        }
        let table = table.into_inner();

        let (cmd, args) = self.command(&table.cmd, key("cmd"))?;

        let cwd = match &table.cwd {
            Some(cwd) => {
                let dir = dir.join(cwd.get_ref());
                if !dir.is_dir() {
                    return Err(self.invalid(
                        cwd.span().start,
                        key("cwd"),
                        format!(
                            "the directory {} does not exist; create it or fix `cwd`",
                            dir.display()
                        ),
                    ));
                }
                dir
            }
            None => dir.to_path_buf(),
        };
        let cwd = normalize(&cwd);

        let mut env = Vec::new();
        if let Some(table_env) = &table.env {
            for (var, value) in table_env.get_ref() {
                let text = match value.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(n) => n.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => {
                        return Err(self.invalid(
                            value.span().start,
                            key(&format!("env.{var}")),
                            "an environment value must be a string, number or boolean".into(),
                        ));
                    }
                };
                if var.is_empty() || var.contains(['=', '\0']) {
                    return Err(self.invalid(
                        table_env.span().start,
                        key("env"),
                        format!("invalid environment variable name '{var}'"),
                    ));
                }
                env.push((var.clone(), text));
            }
        }

        let instances = match &table.instances {
            Some(n) if !(1..=i64::from(MAX_INSTANCES)).contains(n.get_ref()) => {
                return Err(self.invalid(
                    n.span().start,
                    key("instances"),
                    format!(
                        "instances must be between 1 and {MAX_INSTANCES}, not {}",
                        n.get_ref()
                    ),
                ));
            }
            Some(n) => *n.get_ref() as u32,
            None => 1,
        };

        let max_restarts = match &table.max_restarts {
            Some(n) => u32::try_from(*n.get_ref()).map_err(|_| {
                self.invalid(
                    n.span().start,
                    key("max_restarts"),
                    format!("max_restarts must be a count ≥ 0, not {}", n.get_ref()),
                )
            })?,
            None => DEFAULT_MAX_RESTARTS,
        };

        let kill_timeout_ms = match &table.kill_timeout {
            Some(value) => self.duration(value, key("kill_timeout"))?,
            None => DEFAULT_KILL_TIMEOUT_MS,
        };

        let max_memory_restart = match &table.max_memory_restart {
            Some(value) => Some(self.size(value, key("max_memory_restart"))?),
            None => None,
        };

        let cron_restart = match &table.cron_restart {
            Some(expr) => {
                Schedule::parse(expr.get_ref()).map_err(|message| {
                    self.invalid(expr.span().start, key("cron_restart"), message)
                })?;
                Some(expr.get_ref().trim().to_string())
            }
            None => None,
        };

        let watch = match &table.watch {
            Some(value) => self.watch(value, &cwd, key("watch"))?,
            None => Vec::new(),
        };

        let mut watch_ignore = Vec::new();
        for pattern in table.watch_ignore.iter().flatten() {
            if let Err(err) = super::watch::IgnoreSet::new(std::slice::from_ref(pattern.get_ref()))
            {
                return Err(self.invalid(pattern.span().start, key("watch_ignore"), err));
            }
            watch_ignore.push(pattern.get_ref().clone());
        }

        let file = self.path.display().to_string();
        let numbered = instances > 1;
        let specs = (0..instances)
            .map(|n| {
                let name = if numbered {
                    format!("{app}-{n}")
                } else {
                    app.clone()
                };
                let mut env = env.clone();
                env.push((INSTANCE_VAR.to_string(), n.to_string()));
                StartSpec {
                    name,
                    cmd: cmd.clone(),
                    args: args.clone(),
                    cwd: cwd.display().to_string(),
                    env,
                    autorestart: table.autorestart.unwrap_or(true),
                    max_restarts,
                    kill_timeout_ms,
                    raw: table.raw.unwrap_or(false),
                    options: Box::new(AppOptions {
                        app: Some(app.clone()),
                        app_file: Some(file.clone()),
                        max_memory_restart,
                        cron_restart: cron_restart.clone(),
                        watch: watch.clone(),
                        watch_ignore: watch_ignore.clone(),
                    }),
                }
            })
            .collect::<Vec<_>>();
        if let Some(long) = specs.iter().find(|s| validate_name(&s.name).is_err()) {
            return Err(self.invalid(
                name.span().start,
                format!("apps.{app}"),
                format!(
                    "the instance name '{}' is too long; choose a shorter app name",
                    long.name
                ),
            ));
        }
        Ok(App { name: app, specs })
    }

    fn command(
        &self,
        value: &Spanned<toml::Value>,
        key: String,
    ) -> Result<(String, Vec<String>), AppFileError> {
        let bad = |message: &str| self.invalid(value.span().start, key.clone(), message.into());
        match value.get_ref() {
            toml::Value::String(line) if line.trim().is_empty() => Err(bad("the command is empty")),
            toml::Value::String(line) => Ok(("sh".into(), vec!["-c".into(), line.clone()])),
            toml::Value::Array(words) => {
                let mut words = words.iter().map(|w| match w {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(bad("every word of `cmd` must be a string")),
                });
                let program = match words.next() {
                    Some(program) => program?,
                    None => return Err(bad("the command is empty")),
                };
                if program.is_empty() {
                    return Err(bad("the program name is empty"));
                }
                Ok((program, words.collect::<Result<_, _>>()?))
            }
            _ => Err(bad(
                "`cmd` must be an array of words ([\"node\", \"server.js\"]) or a string run by sh -c",
            )),
        }
    }

    fn duration(&self, value: &Spanned<toml::Value>, key: String) -> Result<u64, AppFileError> {
        let parsed = match value.get_ref() {
            toml::Value::String(text) => parse_duration(text),
            toml::Value::Integer(n) if *n >= 0 => Ok(std::time::Duration::from_secs(*n as u64)),
            toml::Value::Float(f) if f.is_finite() && *f >= 0.0 => {
                Ok(std::time::Duration::from_secs_f64(*f))
            }
            other => Err(format!(
                "invalid duration {other}: expected e.g. \"5s\", \"500ms\" or \"2m\""
            )),
        };
        parsed
            .map(|d| d.as_millis() as u64)
            .map_err(|message| self.invalid(value.span().start, key, message))
    }

    fn size(&self, value: &Spanned<toml::Value>, key: String) -> Result<u64, AppFileError> {
        let parsed = match value.get_ref() {
            toml::Value::String(text) => parse_size(text),
            toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
            other => Err(format!(
                "invalid size {other}: expected e.g. \"300MiB\", \"1GiB\" or a number of bytes"
            )),
        };
        match parsed {
            Ok(0) => Err(self.invalid(value.span().start, key, "the size must not be 0".into())),
            Ok(bytes) => Ok(bytes),
            Err(message) => Err(self.invalid(value.span().start, key, message)),
        }
    }

    fn watch(
        &self,
        value: &Spanned<toml::Value>,
        cwd: &Path,
        key: String,
    ) -> Result<Vec<String>, AppFileError> {
        let at = value.span().start;
        let paths: Vec<String> = match value.get_ref() {
            toml::Value::Boolean(true) => vec![".".into()],
            toml::Value::Boolean(false) => Vec::new(),
            toml::Value::String(path) => vec![path.clone()],
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(path) => Ok(path.clone()),
                    _ => Err(self.invalid(
                        at,
                        key.clone(),
                        "every watched path must be a string".into(),
                    )),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(self.invalid(
                    at,
                    key,
                    "`watch` must be true, a path, or an array of paths (relative to cwd)".into(),
                ));
            }
        };
        paths
            .into_iter()
            .map(|path| {
                let full = normalize(&cwd.join(&path));
                if full.exists() {
                    Ok(full.display().to_string())
                } else {
                    Err(self.invalid(
                        at,
                        key.clone(),
                        format!(
                            "the watched path {} does not exist; create it or fix `watch`",
                            full.display()
                        ),
                    ))
                }
            })
            .collect()
    }
}

/// Removes `.` components and resolves `..` lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AppFile, String> {
        let dir = std::env::temp_dir();
        AppFile::parse(&dir.join("apps.toml"), text).map_err(|e| {
            let dir = dir.join("apps.toml").display().to_string();
            e.to_string().replacen(&dir, "apps.toml", 1)
        })
    }

    #[test]
    fn two_apps_with_instances() {
        let file = parse(
            r#"
[apps.web]
cmd = ["node", "server.js"]
env = { PORT = 8080, MODE = "prod" }
instances = 2
kill_timeout = "1.5s"
max_memory_restart = "300MiB"
cron_restart = "0 3 * * *"
watch_ignore = ["*.log", "node_modules"]

[apps.worker]
cmd = "python3 worker.py --fast"
autorestart = false
max_restarts = 3
raw = true
"#,
        )
        .unwrap();
        let names: Vec<_> = file.specs().iter().map(|s| s.name.clone()).collect();
        assert_eq!(names, ["web-0", "web-1", "worker"]);
        let web1 = &file.apps[0].specs[1];
        assert_eq!(web1.cmd, "node");
        assert_eq!(web1.args, ["server.js"]);
        assert_eq!(web1.cwd, std::env::temp_dir().display().to_string());
        assert!(web1.env.contains(&("PORT".into(), "8080".into())));
        assert!(web1.env.contains(&("VELOS_INSTANCE".into(), "1".into())));
        assert_eq!(web1.kill_timeout_ms, 1500);
        assert_eq!(web1.options.max_memory_restart, Some(300 << 20));
        assert_eq!(web1.options.cron_restart.as_deref(), Some("0 3 * * *"));
        assert_eq!(web1.options.app.as_deref(), Some("web"));
        assert!(web1.autorestart);
        let worker = &file.apps[1].specs[0];
        assert_eq!(worker.cmd, "sh");
        assert_eq!(worker.args, ["-c", "python3 worker.py --fast"]);
        assert!(!worker.autorestart && worker.raw);
        assert_eq!(worker.max_restarts, 3);
        assert_eq!(worker.options.app.as_deref(), Some("worker"));
    }

    #[test]
    fn specs_round_trip_and_old_specs_still_load() {
        let file = parse("[apps.web]\ncmd = \"x\"\nwatch_ignore = [\"*.log\"]\n").unwrap();
        let spec = &file.apps[0].specs[0];
        let json = serde_json::to_string(spec).unwrap();
        assert!(json.contains("\"options\":{\"app\":\"web\""), "{json}");
        assert_eq!(&serde_json::from_str::<StartSpec>(&json).unwrap(), spec);
        // As written before app files existed.
        let old: StartSpec =
            serde_json::from_str(r#"{"name":"a","cmd":"b","cwd":"/","raw":false}"#).unwrap();
        assert!(old.options.is_empty());
        assert!(!serde_json::to_string(&old).unwrap().contains("options"));
    }

    #[test]
    fn refusals_name_file_line_and_key() {
        let cases = [
            (
                "[apps.web]\ncmd = \"x\"\nwatchh = [\"src\"]\n",
                "apps.toml:3: apps.web.watchh: unknown field `watchh`",
            ),
            (
                "[apps.web]\ncmd = \"x\"\nkill_timeout = \"5 parsecs\"\n",
                "apps.toml:3: apps.web.kill_timeout: invalid duration '5 parsecs'",
            ),
            (
                "[apps.web]\ncmd = \"x\"\n\nmax_memory_restart = \"3 furlongs\"\n",
                "apps.toml:4: apps.web.max_memory_restart: invalid size unit",
            ),
            (
                "[apps.web]\ncmd = \"x\"\ncron_restart = \"0 25 * * *\"\n",
                "apps.toml:3: apps.web.cron_restart: invalid cron expression '0 25 * * *'",
            ),
            (
                "[apps.web]\ncmd = \"x\"\ncwd = \"no/such/dir\"\n",
                "apps.toml:3: apps.web.cwd: the directory",
            ),
            (
                "[apps.web]\ncmd = \"x\"\n[apps.web]\ncmd = \"y\"\n",
                "apps.toml:3: apps.web: duplicate key",
            ),
            (
                "[apps.web]\ncmd = \"x\"\ninstances = 2\n[apps.web-1]\ncmd = \"y\"\n",
                "apps.toml:4: apps.web-1: the process name 'web-1' is also given by apps.web (line 1)",
            ),
            (
                "[apps.web]\nautorestart = true\n",
                "apps.toml:1: apps.web: missing field `cmd`",
            ),
            (
                "[apps.web]\ncmd = 3\n",
                "apps.toml:2: apps.web.cmd: `cmd` must be",
            ),
            (
                "[apps.web]\ncmd = \"x\"\ninstances = 0\n",
                "apps.toml:3: apps.web.instances: instances must be between 1",
            ),
            (
                "[apps.web]\ncmd = \"x\"\nwatch_ignore = [\"a[\"]\n",
                "apps.toml:3: apps.web.watch_ignore: invalid pattern 'a['",
            ),
            (
                "[apps.web]\ncmd = \"x\"\nwatch = [\"no-such-dir\"]\n",
                "apps.toml:3: apps.web.watch: the watched path",
            ),
            (
                "[apps.all]\ncmd = \"x\"\n",
                "apps.toml:1: apps.all: the name 'all' means every process",
            ),
            (
                "[app.web]\ncmd = \"x\"\n",
                "apps.toml:1: app.web: unknown field `app`",
            ),
            ("", "apps.toml:1: apps: no apps"),
        ];
        for (text, expected) in cases {
            let err = parse(text).expect_err(text);
            assert!(
                err.starts_with(expected),
                "for {text:?}\n  got: {err}\n want: {expected}…"
            );
        }
    }

    proptest::proptest! {
        /// Any text, and any damage to a valid file, gives a file or an
        /// error naming a line of the text, never a panic.
        #[test]
        fn any_text_is_read_or_refused_with_a_line(
            text in "(\\PC|\n){0,200}",
            cut in 0usize..400,
            insert in "[\\[\\]=\"'{},.a-z0-9 \n*/-]{0,12}",
        ) {
            let valid = "[apps.web]\ncmd = [\"node\", \"s.js\"]\ninstances = 2\nkill_timeout = \"2s\"\nmax_memory_restart = \"1MiB\"\ncron_restart = \"*/5 * * * *\"\nwatch_ignore = [\"*.log\"]\nenv = { A = 1 }\n";
            let at = valid.char_indices().map(|(i, _)| i).nth(cut % valid.chars().count()).unwrap_or(0);
            let damaged = format!("{}{insert}{}", &valid[..at], &valid[at..]);
            for text in [text.as_str(), damaged.as_str()] {
                let lines = text.lines().count().max(1) + 1;
                match AppFile::parse(Path::new("/tmp/apps.toml"), text) {
                    Ok(file) => proptest::prop_assert!(!file.apps.is_empty()),
                    Err(AppFileError::Invalid { line, key, message, .. }) => {
                        proptest::prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}");
                        proptest::prop_assert!(!key.is_empty() && !message.is_empty());
                    }
                    Err(err) => proptest::prop_assert!(false, "{err}"),
                }
            }
        }
    }

    #[test]
    fn keys_of_parse_errors() {
        let text = "[apps.web]\ncmd = \"x\"\n\"raw\" = 4\n";
        assert_eq!(key_at(text, text.find("4").unwrap()), "apps.web.raw");
        assert_eq!(key_at("x = 1", 2), "x");
        assert_eq!(key_at("", 0), "(top level)");
        assert_eq!(key_at("[]apps.web]\n", 1), "(top level)");
    }
}
