//! Replay proves the archive. Two checks over the test web, a day apart,
//! then the store exported as one WARC and one WACZ; pywb, the web
//! archiving community's replay server, makes a collection of that WARC
//! and serves it on loopback, and what a reader of the archive would get
//! is asserted over HTTP: the citation that was redirected, the body
//! archived once for two addresses, and the page that answered "304 Not
//! Modified" on the second day each replay with their content.
//!
//! pywb comes from `.ci/setup-archive`'s venv (see `archive_tools`). It is
//! started without `--live`, `--record` or `--proxy`, bound to a
//! 127.0.0.x address: it serves the collection and never fetches anything.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::archive_tools::{run, tools};
use crate::util::{Dir, stderr};
use crate::web::Web;
use crate::web::publisher::ARTICLE;

/// The runs' clocks: the first check, and the recheck a day later.
const DAY_ONE: &str = "2026-11-01T03:00:00Z";
const DAY_TWO: &str = "2026-11-02T03:00:00Z";
/// The same instants as replay URLs write them.
const AT_DAY_ONE: &str = "20261101030000";
const AT_DAY_TWO: &str = "20261102030000";

/// The two collections pywb serves: one made from the exported WARC, which
/// pywb indexes itself, and one of the exported WACZ's files as they are,
/// WARCs and index: what pywb replays is then found through our CDXJ.
/// (`wb-manager add --unpack-wacz` would do the same but only looks for
/// indexes named `.cdx`, where the WACZ spec's name is `index.cdxj`.)
const FROM_WARC: &str = "from-warc";
const FROM_WACZ: &str = "from-wacz";

#[test]
fn a_redirect_a_deduplicated_body_and_a_304_replay_from_the_exported_archive() {
    let web = Web::on("127.0.0.60");
    let dir = Dir::new();
    // `/moved` answers 301 to `/new-home/story`, whose bytes are `/ok`'s;
    // `/etag` answers 304 to the second day's conditional request; `/gone404`
    // is a 404 page.
    dir.write(
        "post.md",
        format!(
            "See [the story]({}), [its old address]({}), [the archive]({}) and [a dead \
             page]({}).\n",
            web.url("/ok"),
            web.url("/moved"),
            web.url("/etag"),
            web.url("/gone404"),
        ),
    );
    for day in [DAY_ONE, DAY_TWO] {
        let check = dir
            .citeguard(["check", "post.md", "--store", "store", "--retries", "0"])
            .now(day)
            .run();
        assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    }
    assert_eq!(web.not_modified(), 1, "the second day's /etag was a 304");

    let warc = dir.join("all.warc.gz");
    let wacz = dir.join("all.wacz");
    for (flag, out) in [("--warc", &warc), ("--wacz", &wacz)] {
        let export = dir.run(["export", flag, path_str(out), "--store", "store"]);
        assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    }
    assert_the_tools_accept(&warc, &wacz);
    assert_the_warc_holds_every_exchange(&web, &warc);

    let first_copy = dir.run(["show", &web.url("/etag"), "--as", "raw", "--store", "store"]);
    assert!(String::from_utf8_lossy(&first_copy.stdout).contains("the archive"));

    let pywb = Wayback::serve(
        &dir,
        &[
            (FROM_WARC, Export::Warc(&warc)),
            (FROM_WACZ, Export::Wacz(&wacz)),
        ],
        "127.0.0.61",
    );
    for collection in [FROM_WARC, FROM_WACZ] {
        assert_replays(&pywb.collection(collection), &web, &first_copy.stdout);
    }
}

/// What a reader of one collection gets.
fn assert_replays(pywb: &Collection, web: &Web, etag_first_copy: &[u8]) {
    let name = pywb.name;
    // The redirected citation: the 301 as it was answered, and, as a
    // browser replays it (pywb's `mp_` mode, which rewrites links and
    // `Location` to stay in the archive), the page it leads to.
    let moved = pywb.get(AT_DAY_ONE, "id_", &web.url("/moved"));
    assert_eq!(moved.status, 301, "{name}: {moved:?}");
    assert_eq!(moved.header("location"), Some("/new-home/story"));
    let moved = pywb.get(AT_DAY_ONE, "mp_", &web.url("/moved"));
    assert_eq!(moved.status, 301, "{moved:?}");
    let location = moved.header("location").expect("the 301 names a place");
    let story = web.url("/new-home/story");
    assert!(
        location.ends_with(&format!("/{name}/{AT_DAY_ONE}mp_/{story}")),
        "{name}: {location}"
    );
    let landed = pywb.get_url(location);
    assert_eq!(landed.status, 200, "{name}: {landed:?}");
    assert!(
        landed.text().contains("About 25 prisoners escaped"),
        "{landed:?}"
    );

    // One body, two addresses, archived once: both replay it.
    for path in ["/ok", "/new-home/story"] {
        let page = pywb.get(AT_DAY_ONE, "id_", &web.url(path));
        assert_eq!(
            (page.status, page.text()),
            (200, ARTICLE.to_string()),
            "{name}: {path}"
        );
    }
    // The second day's copies are revisits of the first's.
    let again = pywb.get(AT_DAY_TWO, "id_", &web.url("/ok"));
    assert_eq!(
        (again.status, again.text()),
        (200, ARTICLE.to_string()),
        "{name}"
    );
    assert_eq!(
        again.memento_datetime(),
        Some("Mon, 02 Nov 2026 03:00:00 GMT")
    );

    // The 304: on the second day the page is the one the server said had
    // not changed, with its first day's headers.
    let revisited = pywb.get(AT_DAY_TWO, "id_", &web.url("/etag"));
    assert_eq!(revisited.status, 200, "{name}: {revisited:?}");
    assert!(revisited.body == etag_first_copy, "{name}: {revisited:?}");
    assert_eq!(
        revisited.memento_datetime(),
        Some("Mon, 02 Nov 2026 03:00:00 GMT"),
        "served from the second day's revisit"
    );
    assert_eq!(revisited.header("x-archive-orig-etag"), Some("\"v1\""));

    // A dead page replays as it was answered.
    let gone = pywb.get(AT_DAY_ONE, "id_", &web.url("/gone404"));
    assert_eq!(
        (gone.status, gone.text()),
        (404, "<title>404</title>".to_string()),
        "{name}"
    );
}

/// `warcio check` passes every digest it can check (it checks none of a
/// revisit's, whose payload is elsewhere) and `wacz validate` accepts the
/// package.
fn assert_the_tools_accept(warc: &Path, wacz: &Path) {
    let (out, text) = run("warcio", &["check", "-v", path_str(warc)]);
    assert!(out.status.success(), "warcio check:\n{text}");
    let verdicts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("    "))
        .map(str::trim)
        .collect();
    assert!(!verdicts.is_empty(), "{text}");
    assert!(
        verdicts
            .iter()
            .all(|v| *v == "digest pass" || *v == "digest present but not checked (revisit)"),
        "warcio check:\n{text}"
    );
    let (out, text) = run("wacz", &["validate", "-f", path_str(wacz)]);
    assert!(
        out.status.success() && text.contains("Validation succeeded"),
        "wacz validate:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What warcio reads in the WARC: robots.txt, the redirect and the 404 as
/// responses, the 304 as a server-not-modified revisit, the shared body
/// once as a response and otherwise as identical-payload revisits, and a
/// request concurrent to every one of them.
fn assert_the_warc_holds_every_exchange(web: &Web, warc: &Path) {
    let (out, text) = run(
        "warcio",
        &[
            "index",
            "-f",
            "warc-type,warc-target-uri,warc-date,http:status,warc-profile,\
             warc-refers-to-target-uri,warc-record-id,warc-concurrent-to",
            path_str(warc),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let field = |r: &serde_json::Value, name: &str| r[name].as_str().unwrap_or("").to_string();
    let of = |kind: &str, path: &str, day: &str| -> Vec<serde_json::Value> {
        records
            .iter()
            .filter(|r| field(r, "warc-type") == kind)
            .filter(|r| field(r, "warc-target-uri") == web.url(path))
            .filter(|r| field(r, "warc-date") == day)
            .cloned()
            .collect()
    };
    let profile = |r: &serde_json::Value| {
        field(r, "warc-profile")
            .rsplit('/')
            .next()
            .map(String::from)
    };

    assert_eq!(
        records
            .iter()
            .filter(|r| field(r, "warc-type") == "warcinfo")
            .count(),
        2,
        "one warcinfo per run's file"
    );
    for (path, status) in [
        ("/robots.txt", "200"),
        ("/moved", "301"),
        ("/gone404", "404"),
    ] {
        let found = of("response", path, DAY_ONE);
        assert_eq!(found.len(), 1, "{path}: {text}");
        assert_eq!(field(&found[0], "http:status"), status, "{path}");
    }
    let not_modified = of("revisit", "/etag", DAY_TWO);
    assert_eq!(not_modified.len(), 1, "{text}");
    assert_eq!(
        profile(&not_modified[0]).as_deref(),
        Some("server-not-modified")
    );
    assert_eq!(
        field(&not_modified[0], "warc-refers-to-target-uri"),
        web.url("/etag")
    );

    // The shared body: one response on the first day, every other copy a
    // revisit of it.
    let first_day: Vec<_> = ["/ok", "/new-home/story"]
        .iter()
        .flat_map(|p| of("response", p, DAY_ONE))
        .collect();
    assert_eq!(first_day.len(), 1, "{text}");
    let original = field(&first_day[0], "warc-target-uri");
    let revisits: Vec<_> = ["/ok", "/new-home/story"]
        .iter()
        .flat_map(|p| [of("revisit", p, DAY_ONE), of("revisit", p, DAY_TWO)].concat())
        .collect();
    assert_eq!(revisits.len(), 3, "{text}");
    for r in &revisits {
        assert_eq!(profile(r).as_deref(), Some("identical-payload-digest"));
        assert_eq!(field(r, "warc-refers-to-target-uri"), original);
    }

    // Every response and revisit has its request.
    for r in records
        .iter()
        .filter(|r| matches!(field(r, "warc-type").as_str(), "response" | "revisit"))
    {
        let id = field(r, "warc-record-id");
        let requests = records
            .iter()
            .filter(|q| field(q, "warc-type") == "request" && field(q, "warc-concurrent-to") == id)
            .count();
        assert_eq!(requests, 1, "{r}");
    }
}

/// pywb's `wayback` serving collections on a loopback address, stopped
/// when dropped.
struct Wayback {
    child: Child,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
}

/// One HTTP response from the replay server.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = self.text();
        let cut = body.char_indices().nth(2000).map_or(body.len(), |(i, _)| i);
        write!(f, "{} {:?}\n{}", self.status, self.headers, &body[..cut])
    }
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn memento_datetime(&self) -> Option<&str> {
        self.header("memento-datetime")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Wayback {
    /// Makes each collection with `wb-manager` in `dir`/pywb and serves
    /// them with `wayback` on `ip`.
    fn serve(dir: &Dir, collections: &[(&str, Export)], ip: &str) -> Wayback {
        let root = dir.join("pywb");
        std::fs::create_dir_all(&root).unwrap();
        let wb_manager = |args: &[&str]| {
            let out = Command::new(tools().join("bin/wb-manager"))
                .args(args)
                .current_dir(&root)
                .output()
                .expect("wb-manager runs");
            assert!(
                out.status.success(),
                "wb-manager {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        for (name, export) in collections {
            wb_manager(&["init", name]);
            match export {
                Export::Warc(warc) => wb_manager(&["add", name, path_str(warc)]),
                Export::Wacz(wacz) => unpack(wacz, &root.join("collections").join(name)),
            }
        }

        let port = free_port(ip);
        let mut child = Command::new(tools().join("bin/wayback"))
            .args(["--bind", ip, "--port", &port.to_string(), "--threads", "2"])
            .arg("--directory")
            .arg(&root)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wayback starts");
        // Its log goes to a channel line by line, so the pipe never fills
        // and a failure can show what it said.
        let (tx, log) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut wayback = Wayback {
            child,
            addr: SocketAddr::new(ip.parse().unwrap(), port),
            log,
        };
        wayback.wait_until_listening();
        wayback
    }

    /// Waits for the log line pywb writes as it starts its server, then
    /// for the port to accept (the bind follows that line at once).
    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut said = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains("Starting Gevent Server") => break,
                Ok(line) => said.push(line),
                Err(_) => panic!("wayback did not start: {}", said.join("\n")),
            }
        }
        while TcpStream::connect(self.addr).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("wayback exited ({status}): {}", said.join("\n"));
            }
            assert!(
                Instant::now() < deadline,
                "wayback never listened on {}",
                self.addr
            );
            std::thread::yield_now();
        }
    }

    fn collection<'w>(&'w self, name: &'w str) -> Collection<'w> {
        Collection { server: self, name }
    }

    /// A URL pywb handed out (a rewritten `Location`), absolute or a path.
    fn get_url(&self, url: &str) -> Reply {
        let rest = url
            .strip_prefix(&format!("http://{}", self.addr))
            .unwrap_or(url);
        assert!(
            rest.starts_with('/'),
            "{url} is not on the replay server {}",
            self.addr
        );
        self.get_path(rest)
    }

    /// One HTTP/1.0 GET: the server closes the connection after the reply.
    fn get_path(&self, path: &str) -> Reply {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP head: {}", String::from_utf8_lossy(&raw)));
        let head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: raw[end + 4..].to_vec(),
        }
    }
}

/// An exported file a collection is made of.
enum Export<'a> {
    Warc(&'a Path),
    Wacz(&'a Path),
}

/// The WACZ's WARCs into the collection's `archive/`, its index into
/// `indexes/`, unchanged.
fn unpack(wacz: &Path, collection: &Path) {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wacz).unwrap()).unwrap();
    let mut found = (0, 0);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_string();
        let to = match name.split_once('/') {
            Some(("archive", file)) if file.ends_with(".warc.gz") => {
                found.0 += 1;
                collection.join("archive").join(file)
            }
            Some(("indexes", file)) if file.ends_with(".cdxj") => {
                found.1 += 1;
                collection.join("indexes").join(file)
            }
            _ => continue,
        };
        let mut out = std::fs::File::create(&to).unwrap();
        std::io::copy(&mut entry, &mut out).unwrap();
    }
    assert_eq!(found, (2, 1), "two runs' WARCs and one index in the WACZ");
}

/// One collection of the replay server.
struct Collection<'w> {
    server: &'w Wayback,
    name: &'w str,
}

impl Collection<'_> {
    /// The capture of `url` closest to `at` (14 digits) in a replay mode:
    /// `id_` serves it as it was received, `mp_` as a browser gets it
    /// (links rewritten into the archive). Redirects are not followed.
    fn get(&self, at: &str, mode: &str, url: &str) -> Reply {
        let name = self.name;
        self.server.get_path(&format!("/{name}/{at}{mode}/{url}"))
    }

    /// A URL pywb handed out (a rewritten `Location`).
    fn get_url(&self, url: &str) -> Reply {
        self.server.get_url(url)
    }
}

impl Drop for Wayback {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on `ip` right now, for a server that takes a port number.
fn free_port(ip: &str) -> u16 {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
