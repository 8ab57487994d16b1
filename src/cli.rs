//! The command line. Every option also reads a `TOLLGATE_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tollgate_registry::domain::{PackageRef, VersionRule};

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Sell and deliver paid packages: npm, Cargo, Hex and RubyGems from one server"
)]
pub struct Cli {
    /// Data directory: the SQLite database and the package store live here by default.
    #[arg(long, global = true, env = "TOLLGATE_DATA", default_value = "./data")]
    pub data: PathBuf,
    /// Database URL; a path or `sqlite:` URL means SQLite. Default: `<data>/tollgate.db`.
    #[arg(long, global = true, env = "TOLLGATE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Package store: a path, `file:///path`, or `s3://bucket/prefix` (with TOLLGATE_S3_ENDPOINT,
    /// TOLLGATE_S3_PATH_STYLE, TOLLGATE_S3_REGION and the AWS credential variables).
    /// Default: the data directory.
    #[arg(long, global = true, env = "TOLLGATE_STORE")]
    pub store: Option<String>,
    /// Answer downloads from an S3 store with short-lived presigned redirects instead of
    /// streaming them through the server.
    #[arg(long, global = true, env = "TOLLGATE_S3_PRESIGN", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    pub s3_presign: bool,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true, env = "TOLLGATE_JSON")]
    pub json: bool,
    /// What to do; without one, `serve` with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the registry server.
    Serve(ServeArgs),
    /// Run database migrations and exit (the server also runs them on start).
    Migrate,
    /// Manage sellers (the URL namespaces that sell).
    #[command(subcommand)]
    Seller(SellerCmd),
    /// Manage products (sets of packages sold together).
    #[command(subcommand)]
    Product(ProductCmd),
    /// Manage buyer orgs.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Grant an org a product by hand, or end grants (`grant end`).
    Grant(GrantArgs),
    /// Create, list and revoke tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage an org's seats.
    #[command(subcommand)]
    Seat(SeatCmd),
    /// Remove stored blobs that no release references (left by interrupted publishes).
    Gc {
        /// Only blobs older than this (e.g. `30m`, `1h`, `0s`), so publishes in flight are safe.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        grace: Duration,
    },
    /// List recent download events of a seller.
    Downloads {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Debug, Parser)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Public base URL clients use (written into npm lockfiles). Default: http://<listen>.
    #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest package accepted on publish, in MiB.
    #[arg(long, env = "TOLLGATE_MAX_UPLOAD_MB", default_value_t = 256)]
    pub max_upload_mb: usize,
}

#[derive(Debug, Subcommand)]
pub enum SellerCmd {
    /// Create a seller; SLUG is its URL namespace (`/acme/npm/`).
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// Show a seller: its repositories and the Hex public key fingerprint.
    Show { slug: String },
    /// List sellers.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ProductCmd {
    /// Create a product; packages may be named before their first release.
    Create {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        product: String,
        /// Display name (default: the product slug).
        #[arg(long)]
        name: Option<String>,
        /// `ecosystem:name`, e.g. `npm:@acme/ui-pro`; repeat for several.
        #[arg(long = "package", required = true)]
        packages: Vec<PackageRef>,
    },
    List {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// Create a buyer org.
    Create {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        org: String,
        #[arg(long)]
        name: String,
    },
    List {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GrantArgs {
    #[command(subcommand)]
    pub end: Option<GrantSub>,
    #[command(flatten)]
    pub target: Option<GrantTarget>,
    /// End of the entitlement (RFC 3339); open-ended if absent.
    #[arg(long)]
    pub until: Option<String>,
    /// What the org keeps after the end.
    #[arg(long, default_value = "while_active")]
    pub rule: VersionRule,
}

#[derive(Debug, Args)]
pub struct GrantTarget {
    #[arg(long, env = "TOLLGATE_SELLER")]
    pub seller: String,
    #[arg(long)]
    pub org: String,
    #[arg(long)]
    pub product: String,
}

#[derive(Debug, Subcommand)]
pub enum GrantSub {
    /// End the org's open grants of the product now.
    End(GrantTarget),
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token and print its secret once.
    Create {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        /// A seller's publish token.
        #[arg(long, conflicts_with = "org")]
        publish: bool,
        /// Limit a publish token to these packages (`ecosystem:name`).
        #[arg(long = "package", requires = "publish")]
        packages: Vec<PackageRef>,
        /// An org token (for CI), or with --seat a seat token.
        #[arg(long, required_unless_present = "publish")]
        org: Option<String>,
        /// The seat (member e-mail) this token belongs to.
        #[arg(long, requires = "org")]
        seat: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
    /// List tokens (never their secrets).
    List {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeatCmd {
    /// Add a seat (or re-activate a revoked one).
    Add {
        #[command(flatten)]
        org: OrgRef,
        email: String,
        /// Make the member an org admin.
        #[arg(long)]
        admin: bool,
    },
    /// Revoke a seat: its tokens stop working at once.
    Revoke {
        #[command(flatten)]
        org: OrgRef,
        email: String,
    },
    List {
        #[command(flatten)]
        org: OrgRef,
    },
}

#[derive(Debug, Args)]
pub struct OrgRef {
    #[arg(long, env = "TOLLGATE_SELLER")]
    pub seller: String,
    #[arg(long)]
    pub org: String,
}
