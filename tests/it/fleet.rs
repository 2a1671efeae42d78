//! Many workers, one queue: `citeguard check --distributed` and
//! `citeguard worker` processes over a real PostgreSQL (`.ci/setup-postgres`,
//! a database of each test's own) and the loopback test web.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use crate::util::{Dir, json, root, stderr};
use crate::web::Web;

/// Long enough for any honest run on a loaded machine; only a hung test
/// waits this long.
const PATIENCE: Duration = Duration::from_secs(300);

/// The server's URL (`postgres://…/postgres`), from the project's script.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join(".ci/setup-postgres"))
            .output()
            .expect("bash runs .ci/setup-postgres");
        assert!(
            out.status.success(),
            ".ci/setup-postgres failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}

/// A database of a test's own on the server, dropped when the test ends.
pub(crate) struct QueueDb {
    pub url: String,
    name: String,
}

impl Drop for QueueDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-X", "-q", server(), "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// A database of this test's own on the server: the queue.
pub(crate) fn fresh_queue(tag: &str) -> QueueDb {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "fleet_{tag}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
    );
    let admin = server();
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", admin, "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "cannot create {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = admin.rsplit_once('/').unwrap().0;
    QueueDb {
        url: format!("{base}/{name}"),
        name,
    }
}

/// A citeguard process whose stderr is read line by line as it comes.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn spawn(mut cmd: Command, stdout: Stdio) -> Running {
        let mut child = cmd
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("run citeguard");
        let err: ChildStderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        Running { child, lines, seen }
    }

    /// Waits for a line of stderr that contains `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no line with {needle:?}; stderr so far: {:?}",
                    self.seen.lock().unwrap()
                ),
            }
        }
    }

    /// Waits for the process to end; its exit code and all of stderr.
    fn finish(&mut self) -> (Option<i32>, Vec<String>) {
        let status = self.child.wait().unwrap();
        // The reader thread ends with the pipe; give it the last lines.
        while self.lines.recv_timeout(Duration::from_secs(5)).is_ok() {}
        let seen = self.seen.lock().unwrap().clone();
        (status.code(), seen)
    }
}

/// A test that fails part-way leaves no process behind.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `check --distributed` on `post.html` in `dir`, its JSON report going to
/// `report.json`; returns once its sources are queued.
fn coordinator(dir: &Dir, queue: &str, flags: &[&str]) -> Running {
    let mut args = vec![
        "check",
        "post.html",
        "--distributed",
        "--queue",
        queue,
        "--no-store",
        "--format",
        "json",
        "--output",
        "report.json",
    ];
    args.extend_from_slice(flags);
    let run = Running::spawn(dir.citeguard(args).command(), Stdio::null());
    run.wait_for("sources queued");
    run
}

fn worker(dir: &Dir, queue: &str, name: &str, flags: &[&str]) -> Running {
    // The third worker names the queue as the store whose database holds
    // it, as `--store` says the same as `--queue` to a worker.
    let flag = if name == "w3" { "--store" } else { "--queue" };
    let mut args = vec!["worker", flag, queue, "--name", name, "--exit-when-idle"];
    args.extend_from_slice(flags);
    Running::spawn(dir.citeguard(args).command(), Stdio::null())
}

/// A post citing each URL in a sentence of its own, and one source named
/// without a link.
fn write_post(dir: &Dir, links: &[String]) {
    let items: String = links
        .iter()
        .map(|u| format!("<p>As <a href=\"{u}\">this report</a> says, it happened.</p>\n"))
        .collect();
    dir.write(
        "post.html",
        format!(
            "<!doctype html><html><body><article>\n{items}<p>According to Reuters, more arrests followed.</p>\n</article></body></html>\n"
        ),
    );
}

/// The report's rows as (url, verdict, reason, status, final url), in order.
fn rows(report: &serde_json::Value) -> Vec<String> {
    report["citations"]
        .as_array()
        .expect("citations")
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} {}",
                c["url"], c["verdict"], c["reason"], c["status"], c["final_url"]
            )
        })
        .collect()
}

/// The rows of a local run of `dir`'s post on an embedded store of its
/// own, with `flags`: what a distributed run must report.
fn local_rows(dir: &Dir, flags: &[&str]) -> Vec<String> {
    let args = [
        "check",
        "post.html",
        "--store",
        "embedded",
        "--format",
        "json",
    ];
    rows(&json(&dir.run(args.iter().chain(flags))))
}

fn read_report(dir: &Dir) -> serde_json::Value {
    serde_json::from_str(&dir.read("report.json")).expect("report.json is JSON")
}

#[test]
fn three_workers_one_killed_halfway_give_every_citation_exactly_one_verdict() {
    let webs: Vec<Web> = ["127.0.0.61", "127.0.0.62", "127.0.0.63"]
        .iter()
        .map(|ip| Web::on(ip))
        .collect();
    let mut cited: Vec<(usize, String)> = Vec::new();
    for (w, web) in webs.iter().enumerate() {
        // Slow answers, so that the killed worker dies holding sources.
        web.set_delay(Duration::from_millis(400));
        for path in ["/ok", "/gone404", "/moved", "/soft404", "/private/page"] {
            cited.push((w, path.to_string()));
        }
        for i in 0..8 {
            cited.push((w, format!("/slow/{i}")));
        }
    }
    let links: Vec<String> = cited.iter().map(|(w, p)| webs[*w].url(p)).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let flags = ["--retries", "0", "--per-host", "2", "--host-delay", "0"];
    let db = fresh_queue("kill");
    let queue = db.url.clone();
    let mut check = coordinator(&dir, &queue, &flags);
    // The doomed worker starts alone: the requests the web sees first are
    // its own, and it is killed while the last of them is still waiting
    // for its answer.
    let halfway = webs[0].after_requests(4);
    let mut doomed = worker(
        &dir,
        &queue,
        "doomed",
        &["--lease", "2", "--concurrency", "4"],
    );
    halfway.recv_timeout(PATIENCE).expect("the worker started");
    doomed.child.kill().unwrap(); // SIGKILL: no chance to clean up
    doomed.child.wait().unwrap();
    let others: Vec<Running> = ["second", "third"]
        .iter()
        .map(|n| worker(&dir, &queue, n, &["--lease", "2", "--concurrency", "4"]))
        .collect();

    let (code, lines) = check.finish();
    assert_eq!(code, Some(1), "the coordinator: {lines:?}");
    for mut w in others {
        let (code, lines) = w.finish();
        assert_eq!(code, Some(0), "a surviving worker: {lines:?}");
    }
    let distributed = read_report(&dir);
    // What the doomed worker held when it died was fetched again by
    // another: more requests for the cited pages than there are of them
    // (robots.txt keeps one away from the web).
    let asked: usize = cited.iter().map(|(w, p)| webs[*w].hits(p)).sum();
    let fetchable = cited.len() - webs.len();
    assert!(
        asked > fetchable,
        "{asked} requests for {fetchable} fetchable pages: nothing was taken over"
    );

    let local = dir.run(
        ["check", "post.html", "--no-store", "--format", "json"]
            .iter()
            .chain(&flags),
    );
    let local = json(&local);
    // One row per citation, each with a verdict, and the same verdicts as
    // a local run's.
    assert_eq!(distributed["summary"], local["summary"]);
    assert_eq!(rows(&distributed), rows(&local));
    assert!(
        distributed["citations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"].is_string())
    );
}

#[test]
fn the_distributed_report_is_the_local_report() {
    let web = Web::on("127.0.0.64");
    let paths = [
        "/ok",
        "/gone404",
        "/gone410",
        "/forbidden",
        "/soft404",
        "/old-story",
        "/members-only",
        "/moved",
        "/chain1",
        "/loop-a",
        "/head405",
        "/bot-403",
        "/cookie-wall",
        "/gzip",
        "/latin1",
        "/paper.pdf",
        "/private/page",
    ];
    let mut links: Vec<String> = paths.iter().map(|p| web.url(p)).collect();
    links.push("mailto:desk@example.org".into());
    links.push(web.url("/ok#section"));
    let dir = Dir::new();
    write_post(&dir, &links);
    let flags = ["--retries", "0"];
    let db = fresh_queue("same");
    let queue = db.url.clone();
    let mut check = coordinator(&dir, &queue, &flags);
    let workers: Vec<Running> = ["a", "b"]
        .iter()
        .map(|n| worker(&dir, &queue, n, &[]))
        .collect();
    let (code, lines) = check.finish();
    assert_eq!(code, Some(1), "{lines:?}");
    for mut w in workers {
        assert_eq!(w.finish().0, Some(0));
    }
    // robots.txt once for the run, whichever worker asked.
    assert_eq!(web.hits("/robots.txt"), 1);
    let mut distributed = read_report(&dir);

    let out = dir.run(
        ["check", "post.html", "--no-store", "--format", "json"]
            .iter()
            .chain(&flags),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut local = json(&out);
    // Only the run's id and times may differ.
    for report in [&mut distributed, &mut local] {
        report.as_object_mut().unwrap().remove("run");
    }
    assert_eq!(
        serde_json::to_string_pretty(&distributed).unwrap(),
        serde_json::to_string_pretty(&local).unwrap()
    );
}

/// A host that counts what it is asked: requests in flight at once (the
/// most ever), when each page request started, and robots.txt requests.
struct Counting {
    base: String,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    starts: Arc<Mutex<Vec<Instant>>>,
    robots: Arc<AtomicUsize>,
    /// When each request for a page or robots.txt began (not the
    /// soft-404 probe's, once per worker and origin).
    every_start: Arc<Mutex<Vec<Instant>>>,
}

impl Counting {
    fn on(ip: &str) -> Counting {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let starts = Arc::new(Mutex::new(Vec::new()));
        let robots = Arc::new(AtomicUsize::new(0));
        let every_start = Arc::new(Mutex::new(Vec::new()));
        let (f, m, s, r, e) = (
            in_flight.clone(),
            max_in_flight.clone(),
            starts.clone(),
            robots.clone(),
            every_start.clone(),
        );
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let (f, m, s, r, e) = (f.clone(), m.clone(), s.clone(), r.clone(), e.clone());
            async move {
                if uri.path() == "/robots.txt" || uri.path().starts_with("/page/") {
                    e.lock().unwrap().push(Instant::now());
                }
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let body = if uri.path() == "/robots.txt" {
                    r.fetch_add(1, Ordering::SeqCst);
                    "User-agent: *\nDisallow: /private/\n".to_string()
                } else {
                    if uri.path().starts_with("/page/") {
                        s.lock().unwrap().push(Instant::now());
                    }
                    // Long enough that requests overlap when allowed to.
                    tokio::time::sleep(Duration::from_millis(80)).await;
                    format!(
                        "<html><body><article><p>The page at {} says what was cited, in a sentence long enough to read.</p></article></body></html>",
                        uri.path()
                    )
                };
                // Counted out before the answer leaves: never more than
                // the client can have in flight.
                f.fetch_sub(1, Ordering::SeqCst);
                axum::response::Html(body)
            }
        });
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (ready, started) = mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                ready.send(()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        started.recv().unwrap();
        Counting {
            base: format!("http://{addr}"),
            in_flight,
            max_in_flight,
            starts,
            robots,
            every_start,
        }
    }

    fn pages(&self, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{}/page/{i}", self.base)).collect()
    }
}

/// Runs a distributed check of `links` with three workers of four sources
/// each and the given politeness flags; every citation gets its verdict.
fn run_three_workers(links: &[String], flags: &[&str], tag: &str) {
    let dir = Dir::new();
    write_post(&dir, links);
    let db = fresh_queue(tag);
    let queue = db.url.clone();
    let mut check = coordinator(&dir, &queue, flags);
    let workers: Vec<Running> = ["w1", "w2", "w3"]
        .iter()
        .map(|n| worker(&dir, &queue, n, &["--concurrency", "4"]))
        .collect();
    let (code, lines) = check.finish();
    // 1: the unlinked citation is `missing`.
    assert_eq!(code, Some(1), "{lines:?}");
    for mut w in workers {
        assert_eq!(w.finish().0, Some(0));
    }
    let report = read_report(&dir);
    assert_eq!(report["summary"]["ok"].as_u64(), Some(links.len() as u64));
}

#[test]
fn per_host_limit_holds_across_all_workers_and_robots_txt_is_asked_once() {
    let hosts: Vec<Counting> = ["127.0.0.65", "127.0.0.66"]
        .iter()
        .map(|ip| Counting::on(ip))
        .collect();
    let links: Vec<String> = hosts.iter().flat_map(|h| h.pages(10)).collect();
    run_three_workers(
        &links,
        &["--per-host", "2", "--host-delay", "0", "--retries", "0"],
        "perhost",
    );
    for h in &hosts {
        assert_eq!(h.starts.lock().unwrap().len(), 10, "{}", h.base);
        let most = h.max_in_flight.load(Ordering::SeqCst);
        assert!(
            (1..=2).contains(&most),
            "{}: {most} requests in flight at once, for a limit of 2",
            h.base
        );
        assert_eq!(h.in_flight.load(Ordering::SeqCst), 0);
        assert_eq!(h.robots.load(Ordering::SeqCst), 1, "{}", h.base);
    }
}

#[test]
fn host_delay_spaces_starts_across_all_workers_robots_txt_included() {
    let hosts: Vec<Counting> = ["127.0.0.67", "127.0.0.68"]
        .iter()
        .map(|ip| Counting::on(ip))
        .collect();
    let links: Vec<String> = hosts.iter().flat_map(|h| h.pages(5)).collect();
    let delay = Duration::from_millis(400);
    run_three_workers(
        &links,
        &["--per-host", "4", "--host-delay", "400", "--retries", "0"],
        "delay",
    );
    for h in &hosts {
        assert_eq!(h.starts.lock().unwrap().len(), 5);
        // Every request, robots.txt's too, spaced by the host delay as
        // the fleet's turns let them start; half of it is the margin for
        // a worker slow to send its request once its turn is taken.
        let mut starts = h.every_start.lock().unwrap().clone();
        starts.sort();
        assert_eq!(starts.len(), 6, "{}: robots.txt and 5 pages", h.base);
        for pair in starts.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= delay / 2,
                "{}: two starts {gap:?} apart, for a host delay of {delay:?}",
                h.base
            );
        }
        assert_eq!(h.robots.load(Ordering::SeqCst), 1, "{}", h.base);
    }
}

/// A TCP proxy to PostgreSQL that can be cut: while down it closes every
/// connection it is handed, and cuts the ones it carries.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    /// The connections it carries, to cut.
    carried: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn to(target: std::net::SocketAddr) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(false));
        let flag = up.clone();
        let carried = Arc::new(std::sync::Mutex::new(Vec::new()));
        let live = carried.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                if let Ok(mut live) = live.lock() {
                    live.push(client.try_clone().unwrap());
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, up, carried }
    }

    /// Down: new connections refused, and those it carries cut.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.carried.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    /// A proxy (down) to the test PostgreSQL, and `url` rewritten to go
    /// through it.
    fn to_postgres(url: &str) -> (Proxy, String) {
        assert!(url.contains(":54329/"), "{url}");
        let proxy = Proxy::to("127.0.0.1:54329".parse().unwrap());
        let through = url.replace(":54329/", &format!(":{}/", proxy.port));
        (proxy, through)
    }
}

/// Rides out the outage the worker `cut-off` meets through `proxy`: said
/// once (a line with `failed`), over once the proxy is up again (a line
/// with `back`); the coordinator and the worker then run to their ends.
/// The worker's lines.
fn outage_said_once(
    check: &mut Running,
    w: &mut Running,
    proxy: &Proxy,
    failed: &str,
    back: &str,
) -> Vec<String> {
    let said = w.wait_for(failed);
    assert!(said.starts_with("citeguard: worker cut-off: "), "{said}");
    proxy.up.store(true, Ordering::SeqCst);
    w.wait_for(back);
    let (code, lines) = check.finish();
    // 1: the post's unlinked citation is `missing`.
    assert_eq!(code, Some(1), "the coordinator: {lines:?}");
    let (code, lines) = w.finish();
    assert_eq!(code, Some(0), "{lines:?}");
    let lost = lines.iter().filter(|l| l.contains(failed)).count();
    assert_eq!(lost, 1, "one line per outage: {lines:?}");
    lines
}

#[test]
fn a_worker_that_cannot_reach_postgresql_says_so_once_and_carries_on_when_it_can() {
    let web = Web::on("127.0.0.69");
    let links: Vec<String> = (0..6).map(|i| web.url(&format!("/slow/{i}"))).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let db = fresh_queue("lost");
    let queue = db.url.clone();
    let mut check = coordinator(&dir, &queue, &["--retries", "0"]);

    let (proxy, through) = Proxy::to_postgres(&queue);
    let mut w = worker(&dir, &through, "cut-off", &[]);
    let lines = outage_said_once(
        &mut check,
        &mut w,
        &proxy,
        "the queue failed",
        "answers again",
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("6 sources checked")),
        "{lines:?}"
    );
    assert_eq!(read_report(&dir)["summary"]["ok"].as_u64(), Some(6));
}

#[test]
fn sigterm_makes_a_worker_finish_its_sources_and_stop() {
    let web = Web::on("127.0.0.70");
    web.set_delay(Duration::from_millis(300));
    let links: Vec<String> = (0..12).map(|i| web.url(&format!("/slow/{i}"))).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let db = fresh_queue("term");
    let queue = db.url.clone();
    let mut check = coordinator(&dir, &queue, &["--retries", "0", "--host-delay", "0"]);
    // Without --exit-when-idle: only the signal ends it.
    let mut first = Running::spawn(
        dir.citeguard([
            "worker",
            "--queue",
            &queue,
            "--name",
            "first",
            "--concurrency",
            "2",
        ])
        .command(),
        Stdio::null(),
    );
    let started = web.after_requests(2);
    started.recv_timeout(PATIENCE).expect("the worker started");
    let pid = first.child.id() as i32;
    // SAFETY: kill(2) on the pid of a child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let (code, lines) = first.finish();
    assert_eq!(code, Some(0), "{lines:?}");
    let done: usize = lines
        .last()
        .and_then(|l| l.split(": ").nth(2))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tally: {lines:?}"));
    // It finished what it held (nothing was left half done for a lease
    // to expire), and left the rest to the next worker.
    assert!(done >= 1 && done < links.len(), "{lines:?}");
    let mut second = worker(&dir, &queue, "second", &[]);
    let (code, lines) = check.finish();
    // 1: the unlinked citation is `missing`.
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(second.finish().0, Some(0));
    assert_eq!(read_report(&dir)["summary"]["ok"].as_u64(), Some(12));
}

// ----- workers that keep copies: a store on PostgreSQL and S3

/// The limits of the storing runs' tests: no retries, two requests at a
/// time a host, no delay, no Memento look-ups.
const STORING_LIMITS: [&str; 7] = [
    "--retries",
    "0",
    "--per-host",
    "2",
    "--host-delay",
    "0",
    "--no-memento",
];

/// A store on PostgreSQL (the queue's own database) with its copies in a
/// bucket of the test's own on the S3 test server, as flags.
fn shared_store(db: &QueueDb) -> Vec<String> {
    vec![
        "--store".into(),
        db.url.clone(),
        "--objects".into(),
        format!("s3://{}/copies", crate::store_backends::bucket()),
        "--s3-endpoint".into(),
        crate::store_backends::s3_server().into(),
    ]
}

/// `citeguard ARGS` in `dir`, with the S3 test credentials.
fn with_s3<S: AsRef<std::ffi::OsStr>>(dir: &Dir, args: impl IntoIterator<Item = S>) -> Command {
    let mut cmd = dir.citeguard(args).command();
    crate::store_backends::s3_env(&mut cmd);
    cmd
}

/// `check --distributed` on `post.html`, keeping copies in `store`, its
/// JSON report going to `out`; returns once its sources are queued.
fn storing_coordinator(dir: &Dir, store: &[String], out: &str, flags: &[&str]) -> Running {
    let mut args: Vec<String> = ["check", "post.html", "--distributed"]
        .iter()
        .chain(&["--format", "json", "--output", out])
        .map(|s| s.to_string())
        .collect();
    args.extend(store.iter().cloned());
    args.extend(flags.iter().map(|s| s.to_string()));
    let run = Running::spawn(with_s3(dir, &args), Stdio::null());
    run.wait_for("sources queued");
    run
}

/// A worker named by the store it keeps copies in (the queue is in its
/// database; where the copies go, the run says).
fn storing_worker(dir: &Dir, db: &QueueDb, name: &str, flags: &[&str]) -> Running {
    let mut args = vec![
        "worker",
        "--store",
        &db.url,
        "--name",
        name,
        "--exit-when-idle",
    ];
    args.extend_from_slice(flags);
    Running::spawn(with_s3(dir, args), Stdio::null())
}

/// A distributed run with these workers, to its end: its report.
fn distributed_run(
    dir: &Dir,
    db: &QueueDb,
    store: &[String],
    out: &str,
    workers: &[(&str, &[&str])],
    flags: &[&str],
) -> serde_json::Value {
    let mut check = storing_coordinator(dir, store, out, flags);
    let running: Vec<Running> = workers
        .iter()
        .map(|(name, extra)| storing_worker(dir, db, name, extra))
        .collect();
    let (code, lines) = check.finish();
    assert!(matches!(code, Some(0 | 1)), "the coordinator: {lines:?}");
    for mut w in running {
        let (code, lines) = w.finish();
        assert_eq!(code, Some(0), "a worker: {lines:?}");
        assert!(
            !lines.iter().any(|l| l.contains("violates")),
            "a worker: {lines:?}"
        );
    }
    serde_json::from_str(&dir.read(out)).expect("the report is JSON")
}

/// A store command on `store`, with the S3 test credentials.
fn on_store(dir: &Dir, store: &[String], args: &[&str]) -> std::process::Output {
    let all: Vec<String> = args
        .iter()
        .map(|s| s.to_string())
        .chain(store.iter().cloned())
        .collect();
    with_s3(dir, &all).output().expect("run citeguard")
}

/// What a report says of each citation, without what names a store, a
/// run or a time: the URL, verdict, reason, status, similarity, whether
/// the quote was found and the change since the previous run.
fn judged(report: &serde_json::Value) -> Vec<String> {
    report["citations"]
        .as_array()
        .expect("citations")
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} {} {} {}",
                c["url"],
                c["verdict"],
                c["reason"],
                c["status"],
                c["similarity"],
                c["quote_found"],
                c["change"]
            )
        })
        .collect()
}

/// One SQL answer from the database, as text.
fn sql(db: &QueueDb, query: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", &db.url, "-c", query])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// No run of the store has two checks of one source.
fn one_check_per_source_and_run(db: &QueueDb) {
    let twice = sql(
        db,
        "SELECT count(*) FROM (SELECT run_id, source_id FROM checks \
         GROUP BY run_id, source_id HAVING count(*) > 1) d",
    );
    assert_eq!(twice, "0", "sources checked twice in one run");
}

/// `verify` passes on the store.
fn verifies(dir: &Dir, store: &[String]) {
    let verify = on_store(dir, store, &["verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        crate::util::stdout(&verify),
        stderr(&verify)
    );
}

#[test]
fn distributed_runs_that_keep_copies_report_changes_as_a_local_run_and_the_store_verifies() {
    let web = Web::on("127.0.0.76");
    let dir = Dir::new();
    crate::store_backends::write_post(&dir, &web);
    let db = fresh_queue("store");
    let store = shared_store(&db);
    let flags = ["--retries", "0", "--host-delay", "0", "--no-memento"];
    let embedded = |out: &str| {
        let args = [
            "check",
            "post.html",
            "--store",
            "embedded",
            "--format",
            "json",
        ];
        let local = dir.run(args.iter().chain(&flags));
        assert!(
            matches!(local.status.code(), Some(0 | 1)),
            "{}",
            stderr(&local)
        );
        dir.write(out, String::from_utf8_lossy(&local.stdout).as_ref());
        json(&local)
    };

    let first = distributed_run(&dir, &db, &store, "d1.json", &[("a", &[])], &flags);
    assert_eq!(judged(&first), judged(&embedded("l1.json")));

    web.change_pages();
    // The second worker says where the copies are itself.
    let objects = [&store[2..]].concat();
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    let second = distributed_run(
        &dir,
        &db,
        &store,
        "d2.json",
        &[("a", &[]), ("b", &objects)],
        &flags,
    );
    let local = embedded("l2.json");
    assert_eq!(judged(&second), judged(&local));
    assert!(
        judged(&second)
            .iter()
            .any(|r| r.contains("/drift") && r.contains("\"changed\"")),
        "{second}"
    );
    // The report kept in the store is the run's.
    let report = on_store(&dir, &store, &["report", "--format", "json"]);
    assert_eq!(json(&report)["run"]["id"], second["run"]["id"]);
    one_check_per_source_and_run(&db);
    assert_eq!(
        sql(&db, "SELECT count(*) FROM runs WHERE finished_at IS NULL"),
        "0"
    );

    verifies(&dir, &store);
    let export = on_store(&dir, &store, &["export", "--wacz", "fleet.wacz"]);
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let wacz = dir.path().join("fleet.wacz");
    let (out, text) =
        crate::archive_tools::run("wacz", &["validate", "-f", wacz.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "wacz validate: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_storing_worker_killed_halfway_leaves_one_verdict_per_citation_and_a_sound_store() {
    let web = Web::on("127.0.0.77");
    // Slow answers, so that the killed worker dies holding sources.
    web.set_delay(Duration::from_millis(400));
    let mut paths: Vec<String> = ["/ok", "/gone404", "/moved", "/soft404"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    paths.extend((0..10).map(|i| format!("/slow/{i}")));
    let links: Vec<String> = paths.iter().map(|p| web.url(p)).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let flags = STORING_LIMITS;
    let db = fresh_queue("killstore");
    let store = shared_store(&db);
    let mut check = storing_coordinator(&dir, &store, "report.json", &flags);
    let halfway = web.after_requests(4);
    let mut doomed = storing_worker(&dir, &db, "doomed", &["--lease", "2", "--concurrency", "4"]);
    halfway.recv_timeout(PATIENCE).expect("the worker started");
    doomed.child.kill().unwrap(); // SIGKILL: no chance to clean up
    doomed.child.wait().unwrap();
    let others: Vec<Running> = ["second", "third"]
        .iter()
        .map(|n| storing_worker(&dir, &db, n, &["--lease", "2", "--concurrency", "4"]))
        .collect();
    let (code, lines) = check.finish();
    assert_eq!(code, Some(1), "the coordinator: {lines:?}");
    for mut w in others {
        let (code, lines) = w.finish();
        assert_eq!(code, Some(0), "a surviving worker: {lines:?}");
    }
    let asked: usize = paths.iter().map(|p| web.hits(p)).sum();
    assert!(
        asked > paths.len(),
        "{asked} requests for {} pages: nothing was taken over",
        paths.len()
    );
    // One row per citation, each with the verdict a local run on a store
    // of its own gives.
    assert_eq!(rows(&read_report(&dir)), local_rows(&dir, &flags));
    one_check_per_source_and_run(&db);
    verifies(&dir, &store);
}

#[test]
fn a_source_taken_over_from_a_worker_still_at_it_is_reported_once_and_the_store_stays_sound() {
    let web = Web::on("127.0.0.78");
    web.set_delay(Duration::from_secs(2));
    let dir = Dir::new();
    write_post(&dir, &[web.url("/slow/0")]);
    let flags = [
        "--retries",
        "0",
        "--ignore-robots",
        "--host-delay",
        "0",
        "--no-memento",
    ];
    let db = fresh_queue("takeover");
    let store = shared_store(&db);
    let mut check = storing_coordinator(&dir, &store, "report.json", &flags);
    // The first worker asks for the page, then stands still (SIGSTOP)
    // past its lease: the second takes the source over.
    let asked = web.after_requests(1);
    let mut first = storing_worker(&dir, &db, "first", &["--lease", "1"]);
    asked
        .recv_timeout(PATIENCE)
        .expect("the first worker asked");
    let signal = |sig: &str, child: &Child| {
        let ok = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    signal("-STOP", &first.child);
    let mut second = storing_worker(&dir, &db, "second", &[]);
    // 1: the post's unlinked citation is missing.
    let (code, lines) = check.finish();
    assert_eq!(code, Some(1), "the coordinator: {lines:?}");
    let (code, lines) = second.finish();
    assert_eq!(code, Some(0), "the second worker: {lines:?}");
    // The first one wakes, stores what it fetched, and drops its result.
    signal("-CONT", &first.child);
    let (code, lines) = first.finish();
    assert_eq!(code, Some(0), "the first worker: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("1 taken over by another worker")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("violates")), "{lines:?}");
    assert_eq!(web.hits("/slow/0"), 2, "fetched by both");

    let report = read_report(&dir);
    assert_eq!(report["citations"].as_array().unwrap().len(), 2);
    assert_eq!(report["citations"][0]["verdict"], "ok");
    // Both copies are kept, one check is.
    assert_eq!(sql(&db, "SELECT count(*) FROM snapshots"), "2");
    assert_eq!(sql(&db, "SELECT count(*) FROM checks"), "1");
    one_check_per_source_and_run(&db);
    verifies(&dir, &store);
}

#[test]
fn a_coordinator_without_workers_says_so_once_and_an_ended_run_leaves_no_host_rows() {
    let web = Web::on("127.0.0.79");
    let dir = Dir::new();
    write_post(&dir, &[web.url("/ok"), web.url("/gone404")]);
    let db = fresh_queue("idle");
    let mut check = coordinator(&dir, &db.url, &["--retries", "0", "--host-delay", "0"]);
    let line = check.wait_for("no worker has claimed");
    assert!(
        line.contains("citeguard worker --queue postgres://"),
        "{line}"
    );
    assert_eq!(web.hits("/ok"), 0);
    let mut late = worker(&dir, &db.url, "late", &[]);
    let (code, lines) = check.finish();
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("no worker")).count(),
        1,
        "{lines:?}"
    );
    assert_eq!(late.finish().0, Some(0));
    assert_eq!(rows(&read_report(&dir)).len(), 3);
    // The run's host kept its politeness while it had sources; the run
    // over, its row went with it.
    assert_eq!(sql(&db, "SELECT count(*) FROM fleet_hosts"), "0");
}

#[test]
fn a_run_whose_coordinator_died_is_ended_by_the_next_worker_not_fetched() {
    let web = Web::on("127.0.0.80");
    let dir = Dir::new();
    write_post(&dir, &[web.url("/ok"), web.url("/gone404")]);
    let db = fresh_queue("orphan");
    let mut check = coordinator(&dir, &db.url, &["--retries", "0"]);
    check.child.kill().unwrap(); // SIGKILL: its run stays in the queue
    check.child.wait().unwrap();
    assert_eq!(sql(&db, "SELECT count(*) FROM fleet_sources"), "2");
    // Long silent, as a coordinator killed minutes ago.
    sql(
        &db,
        "UPDATE fleet_runs SET heartbeat = now() - interval '1 hour'",
    );
    let mut w = worker(&dir, &db.url, "next", &[]);
    let (code, lines) = w.finish();
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(sql(&db, "SELECT count(*) FROM fleet_runs"), "0");
    assert_eq!(sql(&db, "SELECT count(*) FROM fleet_sources"), "0");
    assert_eq!(
        web.hits("/ok") + web.hits("/gone404"),
        0,
        "no one waits for them"
    );
}

#[test]
fn a_distributed_run_with_a_store_that_is_not_on_postgresql_is_one_line() {
    let dir = Dir::new();
    write_post(&dir, &["http://127.0.0.81/ok".to_string()]);
    let out = dir.run(["check", "post.html", "--distributed", "--store", "here"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("PostgreSQL") && err.contains("here"), "{err}");
    assert!(!dir.join("here").exists(), "nothing was written");
    let out = dir.run(["check", "post.html", "--distributed", "--no-store"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--queue"), "{}", stderr(&out));
}

#[test]
fn a_storing_worker_that_loses_the_store_gives_its_sources_back_says_so_once_and_carries_on() {
    let web = Web::on("127.0.0.78");
    web.set_delay(Duration::from_millis(300));
    let paths: Vec<String> = (0..12).map(|i| format!("/slow/{i}")).collect();
    let links: Vec<String> = paths.iter().map(|p| web.url(p)).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let flags = STORING_LIMITS;
    let db = fresh_queue("storelost");
    let store = shared_store(&db);
    let mut check = storing_coordinator(&dir, &store, "report.json", &flags);

    // The worker reaches the queue directly and the store's index through
    // a proxy that is cut while it works.
    let (proxy, through) = Proxy::to_postgres(&db.url);
    proxy.up.store(true, Ordering::SeqCst);
    let args = [
        "worker",
        "--queue",
        db.url.as_str(),
        "--store",
        through.as_str(),
        "--name",
        "cut-off",
        "--exit-when-idle",
        "--lease",
        "2",
        "--concurrency",
        "2",
    ];
    let started = web.after_requests(3);
    let mut w = Running::spawn(with_s3(&dir, args), Stdio::null());
    started.recv_timeout(PATIENCE).expect("the worker started");
    proxy.cut();
    outage_said_once(
        &mut check,
        &mut w,
        &proxy,
        "the store failed",
        "keeps sources again",
    );
    // Every citation has its one verdict, as a local run gives it, and
    // the store is sound.
    assert_eq!(rows(&read_report(&dir)), local_rows(&dir, &flags));
    one_check_per_source_and_run(&db);
    verifies(&dir, &store);
}

#[test]
fn a_storing_worker_started_before_its_postgresql_waits_says_so_once_and_carries_on() {
    let web = Web::on("127.0.0.198");
    let links: Vec<String> = (0..4).map(|i| web.url(&format!("/slow/{i}"))).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let flags = STORING_LIMITS;
    let db = fresh_queue("storewait");
    let store = shared_store(&db);
    let mut check = storing_coordinator(&dir, &store, "report.json", &flags);
    // The worker reaches the queue directly and the store's index through
    // a proxy that is down when it starts: its PostgreSQL is not up yet.
    let (proxy, through) = Proxy::to_postgres(&db.url);
    let args = [
        "worker",
        "--queue",
        db.url.as_str(),
        "--store",
        through.as_str(),
        "--name",
        "cut-off",
        "--exit-when-idle",
    ];
    let mut w = Running::spawn(with_s3(&dir, args), Stdio::null());
    let lines = outage_said_once(
        &mut check,
        &mut w,
        &proxy,
        "cannot open the store yet",
        "keeps sources again",
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("4 sources checked")),
        "{lines:?}"
    );
    assert_eq!(read_report(&dir)["summary"]["ok"].as_u64(), Some(4));
    one_check_per_source_and_run(&db);
}

#[test]
fn a_storing_worker_refused_by_its_store_fails_the_run_at_once_in_one_line() {
    let web = Web::on("127.0.0.199");
    let links: Vec<String> = (0..2).map(|i| web.url(&format!("/slow/{i}"))).collect();
    let dir = Dir::new();
    write_post(&dir, &links);
    let db = fresh_queue("storerefused");
    let store = shared_store(&db);
    let mut check = storing_coordinator(&dir, &store, "report.json", &STORING_LIMITS);
    // A database that does not exist: no wait makes it appear.
    let missing = format!("{}_none", db.url);
    let args = [
        "worker",
        "--queue",
        db.url.as_str(),
        "--store",
        missing.as_str(),
        "--name",
        "refused",
        "--exit-when-idle",
    ];
    let mut w = Running::spawn(with_s3(&dir, args), Stdio::null());
    let (code, lines) = check.finish();
    assert_eq!(code, Some(2), "{lines:?}");
    let said: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("does not exist"))
        .collect();
    assert_eq!(said.len(), 1, "{lines:?}");
    let (_, lines) = w.finish();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("cannot open the store yet")),
        "{lines:?}"
    );
}
