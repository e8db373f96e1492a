//! Running the `jianbao` binary that cargo built for this test crate.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a one-shot CLI command may run before the test calls it hung (a symlink
/// loop or a FIFO in the seeds folder must not block it).
const HANG: Duration = Duration::from_secs(60);

/// `jianbao --seeds-dir SEEDS --data-dir DATA ARGS…`, in a clean environment: no log filter,
/// no token, the fake Bot API on loopback reachable past any proxy. Output is piped.
pub fn command(seeds: &Path, data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jianbao"));
    cmd.arg("--seeds-dir")
        .arg(seeds)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("TELOXIDE_TOKEN")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a one-shot command to its end and returns its output; fails the test if it is
/// still running after a minute. Output is read while it runs, so a chatty command cannot
/// block on a full pipe.
pub fn run(seeds: &Path, data: &Path, args: &[&str]) -> Output {
    let mut child = command(seeds, data, args).spawn().expect("run jianbao");
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for jianbao") {
            break status;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("jianbao {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Reads a child's pipe to its end on a thread of its own.
pub fn drain(from: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        if let Some(mut from) = from {
            let _ = from.read_to_end(&mut all);
        }
        all
    })
}

/// `search --json QUERY`'s answer; fails the test if the command failed.
pub fn search_json(seeds: &Path, data: &Path, query: &str) -> serde_json::Value {
    let out = run(seeds, data, &["search", "--json", query]);
    assert!(out.status.success(), "search {query:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("search {query:?}: not JSON ({e}): {}", stdout(&out)))
}

/// The ids of `search --json QUERY`'s hits, best first.
pub fn search_ids(seeds: &Path, data: &Path, query: &str) -> Vec<String> {
    search_json(seeds, data, query)["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().expect("id").to_owned())
        .collect()
}

/// How many documents match QUERY, all pages together.
pub fn search_total(seeds: &Path, data: &Path, query: &str) -> u64 {
    search_json(seeds, data, query)["total"]
        .as_u64()
        .expect("total")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
