//! What every test needs: a temporary directory to work in, one way to run
//! the `citeguard` binary in it, and the paths of the fixtures.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The binary under test.
pub const CITEGUARD: &str = env!("CARGO_BIN_EXE_citeguard");

/// A temporary directory, removed when dropped: a test's posts, store and
/// outputs, and the working directory of every `citeguard` it runs.
pub struct Dir(tempfile::TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(tempfile::tempdir().expect("a temporary directory"))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path().join(name)
    }

    /// Writes a file (and the folders it needs) under the directory.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    }

    /// Runs `citeguard ARGS` here and waits for it.
    pub fn run<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Output {
        self.citeguard(args).run()
    }

    /// `citeguard ARGS` to be run here, to adjust before running.
    pub fn citeguard<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Citeguard {
        Citeguard::new(self.path(), args)
    }
}

/// The one way tests run the `citeguard` binary: in a directory, with no
/// colour, with the run clock and CI detection cleared from the
/// environment, and never asking a real web archive (`check` gets
/// `--no-memento` unless the test names a Memento endpoint of its own).
pub struct Citeguard {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Citeguard {
    pub fn new<S: AsRef<OsStr>>(dir: &Path, args: impl IntoIterator<Item = S>) -> Citeguard {
        let mut args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
        let names_an_archive = args.iter().any(|a| {
            let a = a.to_string_lossy();
            a == "--no-memento" || a.starts_with("--memento-endpoint")
        });
        if args.first().is_some_and(|a| a == "check") && !names_an_archive {
            args.insert(1, "--no-memento".into());
        }
        let mut cmd = Command::new(CITEGUARD);
        cmd.args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("CITEGUARD_NOW")
            .env_remove("GITHUB_ACTIONS");
        Citeguard { cmd, stdin: None }
    }

    /// The run's clock (`CITEGUARD_NOW`), for runs on simulated days.
    pub fn now(mut self, rfc3339: &str) -> Citeguard {
        self.cmd.env("CITEGUARD_NOW", rfc3339);
        self
    }

    /// What the process reads on its standard input.
    pub fn stdin(mut self, bytes: &[u8]) -> Citeguard {
        self.stdin = Some(bytes.to_vec());
        self
    }

    pub fn run(mut self) -> Output {
        let Some(input) = self.stdin else {
            return self.cmd.output().expect("run citeguard");
        };
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run citeguard");
        child.stdin.take().unwrap().write_all(&input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// The command itself, for a test that wires its standard streams its
    /// own way (a pipe closed early).
    pub fn command(self) -> Command {
        self.cmd
    }

    /// Starts it with its output thrown away, to kill it midway.
    pub fn spawn_quiet(mut self) -> Child {
        self.cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run citeguard")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as one JSON document.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", stdout(o), stderr(o)))
}

/// Standard output as JSON Lines.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A post under `tests/fixtures/collect/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/collect").join(name)
}

/// A fetcher's config for tests: short timeouts and retry waits, no
/// politeness delay, no web archive.
pub fn fast_config() -> citeguard::config::Config {
    let mut c = citeguard::config::Config::default();
    c.fetch.timeout_secs = 2.0;
    c.fetch.connect_timeout_secs = 2.0;
    c.fetch.retries = 1;
    c.fetch.max_retry_wait_secs = 1.0;
    c.fetch.host_delay_ms = 0;
    c.schedule.memento_endpoint.clear();
    c
}
