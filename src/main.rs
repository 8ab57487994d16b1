//! `tollgate`: parses the command line and wires the crates together. Nothing else lives here.

mod cli;
mod commands;
mod ecosystems;
mod listener;
mod ops;
mod server;

use clap::Parser as _;

use crate::cli::{Cli, Command, ServeArgs};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut cli: Cli = cli::scope::parse();
    let command = cli
        .command
        .take()
        .unwrap_or_else(|| Command::Serve(ServeArgs::parse_from(["serve"])));
    init_tracing(matches!(command, Command::Serve(_)));
    match run(cli, command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, command: Command) -> anyhow::Result<()> {
    // Verifying a license key is offline: no database, no data directory.
    if let Command::License(cmd @ cli::LicenseCmd::Verify { .. }) = command {
        return commands::license::verify(cmd, cli.json);
    }
    let ctx = commands::Context::open(&cli).await?;
    match command {
        Command::Serve(ref args) => server::serve(ctx, args).await,
        command => commands::run(&ctx, command).await,
    }
}

/// Logs go to stderr; the server logs requests at `info`, admin commands only warnings.
fn init_tracing(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// The error and its causes in one line, skipping a cause its parent already quotes.
fn describe(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
