//! A throwaway PostgreSQL server for the cluster tests and benches: the system's own server
//! binaries, a fresh data directory in a temporary folder, a free port, the unix socket in that
//! folder, `fsync=off`. Nothing of a server outlives the process that started it.
//!
//! * The binaries are found in `PATH` or under `/usr/lib/postgresql/*/bin` (the newest version).
//!   If they are missing, starting a server panics with a message saying how to install them:
//!   a cluster test never passes without a server.
//! * `initdb` and `postgres` refuse to run as root; as root, every server command runs as the
//!   `postgres` user (`runuser`), with the folder handed to that user.
//! * `initdb` (about 2.5 s) runs once per machine and PostgreSQL version: its output is kept as a
//!   template under the system's temporary folder, and every server starts on a copy of it.
//! * A server is stopped (by its data directory) and its folder removed when its [`PgServer`] is
//!   dropped, on panic too. A watchdog process does the same when the test process is gone, so
//!   that the [`PgServer::shared`] server of a test binary (a static, never dropped) and the
//!   servers of a killed test run are stopped as well.
#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// One running (or stopped) throwaway server.
pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    watchdog: Option<Child>,
}

static SHARED: OnceLock<PgServer> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl PgServer {
    /// Starts a new server of its own (for tests that restart or stop it).
    pub fn start() -> PgServer {
        let bin = server_binaries();
        let as_postgres = running_as_root();
        let template = template(&bin, as_postgres);
        let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("se-pg-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the server's temporary folder");
        run(Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(dir.join("data")));
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir));
        }
        let mut server = PgServer {
            bin,
            dir,
            port: 0,
            as_postgres,
            watchdog: None,
        };
        server.watchdog = Some(server.spawn_watchdog());
        server.port = free_port();
        server.start_again();
        server
    }

    /// The server every test of this process shares; stopped by its watchdog at exit.
    pub fn shared() -> &'static PgServer {
        SHARED.get_or_init(PgServer::start)
    }

    /// A connection string for database `dbname` over the unix socket.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={dbname}",
            self.dir.display(),
            self.port
        )
    }

    /// Creates a fresh, empty database and returns its connection string.
    pub fn create_database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} STRATEGY = FILE_COPY"))
            .expect("create a test database");
        self.url(&name)
    }

    /// Starts the server (again) on its data directory and port.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=150",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let status = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "30", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .expect("run pg_ctl start");
        if !status.success() {
            let log = fs::read_to_string(&log).unwrap_or_default();
            panic!("the test PostgreSQL did not start ({status}); its log:\n{log}");
        }
    }

    /// Stops the server (fast shutdown: sessions are ended, committed work is kept).
    pub fn stop(&self) {
        self.pg_ctl_stop("fast");
    }

    /// The server's process id while it runs.
    pub fn server_pid(&self) -> Option<u32> {
        let pid = fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl_stop(&self, mode: &str) {
        let _ = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", "30", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    fn server_command(&self, name: &str) -> Command {
        server_command(&self.bin, name, self.as_postgres)
    }

    /// A process that waits for this one to end, then stops the server and removes its folder.
    fn spawn_watchdog(&self) -> Child {
        let stop = self.server_command("pg_ctl");
        let mut argv: Vec<String> = vec![stop.get_program().to_string_lossy().into_owned()];
        argv.extend(stop.get_args().map(|a| a.to_string_lossy().into_owned()));
        let script = r#"pid=$1; dir=$2; shift 2
            while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
            "$@" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
            rm -rf "$dir""#;
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(&self.dir)
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that a signal to the test's group does not end it first.
            .process_group(0)
            .spawn()
            .expect("spawn the test server's watchdog")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.pg_ctl_stop("immediate");
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`.
fn server_binaries() -> PathBuf {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let from_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = from_path.into_iter().find(|d| has_all(d)) {
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_all(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed: none in \
             PATH nor under /usr/lib/postgresql/*/bin. The cluster tests start their own throwaway \
             server from them; install Debian's `postgresql` package \
             (`apt-get install postgresql`, as .ci/run does) and run the tests again."
        ),
    }
}

/// A freshly initialised data directory to copy, made once per machine and server version.
fn template(bin: &Path, as_postgres: bool) -> PathBuf {
    let version = Command::new(bin.join("initdb"))
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let key: String = format!("{}-{version}", bin.display())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let owner = if as_postgres { "postgres" } else { "self" };
    let template = std::env::temp_dir().join(format!("schedule-engine-pg-template-{owner}-{key}"));
    if template.join("PG_VERSION").is_file() {
        return template;
    }
    // Built under a name of its own and renamed into place when complete, so that concurrent
    // test binaries never copy a half-made one.
    let building = std::env::temp_dir().join(format!(
        "schedule-engine-pg-template-building-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&building);
    fs::create_dir_all(&building).expect("create the template folder");
    if as_postgres {
        run(Command::new("chown")
            .arg("postgres:postgres")
            .arg(&building));
    }
    run(server_command(bin, "initdb", as_postgres)
        .arg("-D")
        .arg(building.join("data"))
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
        .args(["--no-sync", "--no-instructions"]));
    if fs::rename(building.join("data"), &template).is_err()
        && !template.join("PG_VERSION").is_file()
    {
        panic!(
            "cannot move the initialised template into {}",
            template.display()
        );
    }
    let _ = fs::remove_dir_all(&building);
    template
}

fn server_command(bin: &Path, name: &str, as_postgres: bool) -> Command {
    let program = bin.join(name);
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("find a free port");
    listener.local_addr().expect("local address").port()
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    if !output.status.success() {
        panic!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
