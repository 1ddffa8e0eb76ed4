//! The `ftpfixture` command: the same server as the library, as a process
//! for CI jobs in any language.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ftpfixture::{Server, StartError, User, DEFAULT_PASSWORD, DEFAULT_USER};

/// A real FTP server for testing FTP clients.
#[derive(Debug, Parser)]
#[command(name = "ftpfixture", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "FTPFIXTURE_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Control port (0 picks a free one).
    #[arg(long, env = "FTPFIXTURE_PORT", default_value_t = 2121)]
    port: u16,
    /// Directory to serve (default: a fresh temp dir, removed at exit).
    #[arg(long, env = "FTPFIXTURE_ROOT")]
    root: Option<PathBuf>,
    /// Login name of the account.
    #[arg(long, env = "FTPFIXTURE_USER", default_value = DEFAULT_USER)]
    user: String,
    /// Password of the account.
    #[arg(long, env = "FTPFIXTURE_PASSWORD", default_value = DEFAULT_PASSWORD)]
    password: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut builder = Server::builder()
        .bind(args.bind)
        .port(args.port)
        .account(User::new(&args.user, &args.password));
    if let Some(root) = &args.root {
        builder = builder.root(root);
    }
    let server = match builder.start().await {
        Ok(s) => s,
        Err(e @ StartError::Bind { .. }) => {
            eprintln!("ftpfixture: {e}");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("ftpfixture: {e}");
            return ExitCode::from(2);
        }
    };
    let root = server
        .root()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    eprintln!("ftpfixture listening on {}", server.url());
    eprintln!("  user {} / password {}", args.user, args.password);
    eprintln!("  root {root}");
    eprintln!(
        "  try: curl {}/ --user {}:{}",
        server.url(),
        args.user,
        args.password
    );
    eprintln!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("ftpfixture: shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}
