use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use jianbao::app::App;
use jianbao::config::{self, Settings};
use jianbao::index::SearchIndex;
use jianbao::search::{SearchOptions, Sort};
use jianbao::service::health::{self, Checks, Signals};
use jianbao::service::{LogFormat, Service};
use jianbao::store::{InstanceLock, Store};

/// 简报 jianbao: search and daily digests over a folder of Chinese articles, on Telegram and
/// in the terminal.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Folder of seed articles (.txt / .md, searched recursively).
    #[arg(long, global = true, env = "SEEDS_DIR", default_value = "./seeds")]
    seeds_dir: PathBuf,
    /// Folder for the index, the database and the lock file.
    #[arg(long, global = true, env = "DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sync the index with the seeds folder and print a summary.
    Index {
        /// Name every skipped file and every page without text (otherwise the first 10 of each
        /// reason).
        #[arg(long)]
        verbose: bool,
        /// Then list the boilerplate lines learned from the collection, with their counts.
        #[arg(long)]
        chrome: bool,
        /// Commit a large build every N added articles: a build interrupted then resumes from
        /// its last commit.
        #[arg(long, value_name = "N", default_value_t = 16_384)]
        checkpoint_every: usize,
    },
    /// Search; without QUERY, read one query per line from stdin and answer each with a JSON line.
    Search {
        /// Print JSON: {"query", "total", "matched", "hits": [{"id", "title", "url", "source", "date", "score", "excerpt", "seq", "story", "also"}]}.
        #[arg(long)]
        json: bool,
        /// Results per page.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: usize,
        #[arg(long, value_enum, default_value_t = Sort::Relevance)]
        sort: Sort,
        /// List every copy of a story (reposts) as a hit of its own instead of one per story.
        #[arg(long)]
        all_copies: bool,
        /// The query: words, a question, "a phrase", -excluded, source:名称, after:/before:YYYY-MM-DD.
        query: Vec<String>,
    },
    /// Print the cleaned full text of an article, by its number (`#123` in results) or id.
    Show {
        /// The article's number (as in `/read 123`) or its id (file name without extension).
        id: String,
    },
    /// Talk to the bot in the terminal, as a private-chat user would (no token needed).
    Chat,
    /// List every chat's saved searches (/alert).
    Alerts,
    /// Print a digest of recently indexed articles.
    Digest {
        /// Articles indexed since this date (default: the last 24 hours).
        #[arg(long)]
        since: Option<String>,
        /// Only articles matching these keywords (same syntax as search).
        #[arg(long, num_args = 1..)]
        keywords: Vec<String>,
    },
    /// Run the Telegram bot (needs TELOXIDE_TOKEN).
    Serve,
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let secrets: Vec<String> = if matches!(cli.command, Command::Serve) {
        ["TELOXIDE_TOKEN", "WEBHOOK_SECRET"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    let format = match jianbao::service::log_format(std::env::var("LOG_FORMAT").ok().as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&cli.command, secrets, format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let token = std::env::var("TELOXIDE_TOKEN").unwrap_or_default();
            eprintln!("error: {}", config::redact(&format!("{e:#}"), token.trim()));
            ExitCode::FAILURE
        }
    }
}

/// glibc gives each new thread its own malloc arena (up to 8 per core) and keeps what they
/// freed. Searches run on short-lived blocking-pool threads, so a long-running bot grew by
/// ~10 MB steps in a soak test; with two arenas RSS stayed flat (BENCHMARKS.md, soak).
///
/// And glibc raises its mmap threshold each time a large block is freed, up to 32 MB, so that
/// later large blocks come from the heap, where what is freed is kept. Tantivy's indexing
/// buffers are such blocks, freed at every segment flush: a build of 97,970 articles held
/// ~75 MB more at its peak than with the threshold fixed (BENCHMARKS.md, scale).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Logs go to stderr, as text or JSON lines (`LOG_FORMAT`); with the token and the webhook
/// secret scrubbed from every line, whatever library wrote it.
fn init_logging(command: &Command, secrets: Vec<String>, format: LogFormat) {
    let default = match command {
        Command::Search { .. }
        | Command::Show { .. }
        | Command::Chat
        | Command::Alerts
        | Command::Digest { .. } => "warn",
        Command::Index { .. } | Command::Serve => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let secrets = Arc::new(secrets);
    let writer = move || RedactingWriter {
        secrets: secrets.clone(),
        out: std::io::stderr(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    match format {
        // Colours only on a terminal: journald, `2>log` and pipes get plain text.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // One object per line: timestamp, level, fields (message included), span.
        LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

struct RedactingWriter {
    secrets: Arc<Vec<String>>,
    out: std::io::Stderr,
}

impl std::io::Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.secrets.is_empty() {
            return self.out.write(buf);
        }
        let mut text = String::from_utf8_lossy(buf).into_owned();
        for secret in self.secrets.iter() {
            text = config::redact(&text, secret);
        }
        self.out.write_all(text.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn open_index(
    cli_seeds: &std::path::Path,
    data_dir: &std::path::Path,
) -> anyhow::Result<SearchIndex> {
    let index = SearchIndex::open(data_dir)?;
    let report = index.sync(cli_seeds, None)?;
    if report.changed() {
        tracing::info!(
            "index: {} added, {} updated, {} deleted",
            report.added,
            report.updated,
            report.deleted
        );
    }
    Ok(index)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Index {
            verbose,
            chrome,
            checkpoint_every,
        } => {
            let mut index = SearchIndex::open(&cli.data_dir)?;
            index.set_checkpoint_every(checkpoint_every);
            let progress = jianbao::cli::progress_bar();
            let callback = progress.as_ref().map(|p| p.callback());
            let report = index.sync(&cli.seeds_dir, callback.as_deref())?;
            if let Some(p) = progress {
                p.finish();
            }
            jianbao::cli::print_sync_report(&report, verbose, &mut std::io::stdout())?;
            if chrome {
                jianbao::cli::print_learned_chrome(
                    &index.learned_chrome()?,
                    &mut std::io::stdout(),
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            json,
            limit,
            page,
            sort,
            all_copies,
            query,
        } => {
            let index = open_index(&cli.seeds_dir, &cli.data_dir)?;
            let limit = limit.clamp(1, 1000);
            let opts = SearchOptions {
                sort,
                limit,
                offset: (page.clamp(1, 100_000) - 1) * limit,
                group: !all_copies,
                ..SearchOptions::default()
            };
            if query.is_empty() {
                jianbao::cli::search_batch(&index, &opts)?;
                return Ok(ExitCode::SUCCESS);
            }
            let query = query.join(" ");
            if json {
                println!("{}", jianbao::cli::search_json(&index, &query, &opts));
                return Ok(ExitCode::SUCCESS);
            }
            let found =
                jianbao::cli::search_readable(&index, &query, &opts, &mut std::io::stdout())?;
            Ok(if found {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Show { id } => {
            let index = open_index(&cli.seeds_dir, &cli.data_dir)?;
            match jianbao::fulltext::find(&index, &id)? {
                Some(article) => {
                    print!("{}", article.plain());
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no article numbered or named {id:?} in the index");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Alerts => {
            let store = Store::open(&cli.data_dir)?;
            let alerts = store.all_alerts()?;
            if alerts.is_empty() {
                println!("no alerts");
            }
            let mut number = 0;
            let mut chat = None;
            for a in alerts {
                if chat != Some(a.chat_id) {
                    chat = Some(a.chat_id);
                    number = 0;
                }
                number += 1;
                let created = chrono::DateTime::from_timestamp(a.created_at, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                println!(
                    "chat {} #{number}: {} (since {created} UTC)",
                    a.chat_id,
                    jianbao::cli::terminal_safe(&a.query)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat => {
            let mut settings = Settings::from_env()?;
            // The console user is the operator: admin, and allowed.
            settings.admin_ids.insert(jianbao::console::CONSOLE_CHAT_ID);
            if !settings.allowed_chat_ids.is_empty() {
                settings
                    .allowed_chat_ids
                    .insert(jianbao::console::CONSOLE_CHAT_ID);
            }
            let app = App::new(
                Arc::new(open_index(&cli.seeds_dir, &cli.data_dir)?),
                Arc::new(Store::open(&cli.data_dir)?),
                settings,
                cli.seeds_dir.clone(),
            );
            jianbao::console::run(&app)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Digest { since, keywords } => {
            let settings = Settings::from_env()?;
            let index = open_index(&cli.seeds_dir, &cli.data_dir)?;
            let now = chrono::Utc::now();
            let since_ts = match since {
                Some(text) => {
                    let date = jianbao::corpus::dates::parse_date(&text).ok_or_else(|| {
                        anyhow::anyhow!("--since {text:?} is not a date like 2024-07-01")
                    })?;
                    jianbao::schedule::local_instant(
                        settings.default_tz,
                        date,
                        chrono::NaiveTime::MIN,
                    )
                    .timestamp()
                }
                None => now.timestamp() - 24 * 3600,
            };
            let keywords = keywords.join(" ");
            let label = jianbao::schedule::local_date(settings.default_tz, now)
                .format("%Y-%m-%d")
                .to_string();
            let composed = jianbao::digest::compose(
                &index,
                jianbao::digest::Since::Time(since_ts),
                &keywords,
                settings.digest_max_items,
                &label,
                jianbao::digest::WhenEmpty::Note,
            )?;
            let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
            for part in composed.parts {
                println!("{}\n", jianbao::console::html_to_terminal(&part, color));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => serve(cli.seeds_dir, cli.data_dir),
    }
}

fn serve(seeds_dir: PathBuf, data_dir: PathBuf) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_env()?;
    let service = Service::from_env()?;
    let token = config::token()?;
    let api_url = config::api_url()?;
    let _lock = InstanceLock::acquire(&data_dir).map_err(anyhow::Error::msg)?;
    jianbao::text::warm_up();
    let index = Arc::new(open_index(&seeds_dir, &data_dir)?);
    let store = Arc::new(Store::open(&data_dir)?);
    let rescan_every = std::time::Duration::from_secs(settings.seeds_rescan_secs);
    let app = Arc::new(App::new(
        index.clone(),
        store.clone(),
        settings,
        seeds_dir.clone(),
    ));
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(async move {
        let mut bot = teloxide::Bot::new(token.clone());
        if let Some(url) = api_url {
            bot = bot.set_api_url(url);
        }
        let outbox = Arc::new(jianbao::bot::Outbox::new(bot.clone(), token.clone()));
        let signals = Signals::new();
        let running = jianbao::bot::start_with(
            app.clone(),
            outbox.clone(),
            &token,
            &service.updates,
            signals.clone(),
        )
        .await?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut service_tasks = vec![tokio::spawn(jianbao::bot::probe(
            bot,
            token.clone(),
            service.updates.clone(),
            signals.clone(),
            stop_rx.clone(),
        ))];
        if let Some(listen) = service.metrics_listen {
            let router = health::router(Checks {
                index: index.clone(),
                store,
                signals,
            });
            // Bound before serving, so a taken port is a start-up error, not a log line.
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("METRICS_LISTEN {listen}: cannot listen: {e}"))?;
            let stop = stop_rx.clone();
            service_tasks.push(tokio::spawn(async move {
                if let Err(e) = health::serve(listener, router, stop).await {
                    tracing::error!("health and metrics server failed: {e}");
                }
            }));
        }
        let scheduler = jianbao::scheduler::Scheduler::new(app.subscriptions(), outbox.clone());
        let alerts = app.alerts();
        let arrived = alerts.clone();
        let tasks = [
            tokio::spawn(scheduler.run(stop_rx.clone())),
            tokio::spawn(jianbao::alerts::run(
                alerts,
                outbox.clone(),
                stop_rx.clone(),
            )),
            tokio::spawn(jianbao::rescan::run(
                index,
                seeds_dir,
                rescan_every,
                Arc::new(move || arrived.articles_arrived()),
                stop_rx.clone(),
            )),
            tokio::spawn(prune_limiters(outbox.clone(), stop_rx)),
        ];
        let stopping_outbox = outbox;
        tracing::info!("serving; stop with Ctrl-C or SIGTERM");
        wait_for_signal().await;
        tracing::info!("stopping");
        let deadline = tokio::time::Instant::now() + STOP_DEADLINE;
        // The scheduler and alerts start no new send; those in flight finish and are
        // recorded (no longer held behind replies) while the bot stops taking updates and
        // drains its queued replies.
        stopping_outbox.stopping();
        let _ = stop_tx.send(true);
        // Side by side: the fan-outs' sends in flight get the whole deadline, not what the
        // bot's own stop leaves of it.
        let rest = async {
            for task in tasks.into_iter().chain(service_tasks) {
                let _ = task.await;
            }
        };
        let (_, rest) = tokio::join!(running.stop(), tokio::time::timeout_at(deadline, rest));
        if rest.is_err() {
            tracing::warn!(
                "background work still running {} s after the stop; exiting",
                STOP_DEADLINE.as_secs()
            );
        }
        tracing::info!("stopped");
        anyhow::Ok(())
    });
    // Blocking work still running (a sync, a search) must not hold the exit: dropping a
    // runtime waits for its blocking tasks without a limit.
    runtime.shutdown_timeout(SHUTDOWN_WAIT);
    served?;
    Ok(ExitCode::SUCCESS)
}

/// How long the exit waits for blocking work after the bot stopped (an index commit is
/// atomic: a sync cut short is redone at the next start).
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// A stop ends within this (then `SHUTDOWN_WAIT`): under the 10 s service managers are
/// told to allow, well under systemd's `TimeoutStopSec=20` of `deploy/jianbao.service`.
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);

async fn prune_limiters(
    outbox: Arc<jianbao::bot::Outbox>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => outbox.prune(),
            _ = stop.changed() => return,
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
