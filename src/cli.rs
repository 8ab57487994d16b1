//! The command line. Every option also reads a `TOLLGATE_*` environment variable, whose value
//! `--help` never shows: a database URL holds a password, and help output gets pasted into
//! tickets and chats. One setting on the top command hides them all (see [`hide_env_values`]),
//! so an option added later cannot forget it; a test walks every command to keep it so.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub mod scope;

use tollgate_registry::domain::{PackageRef, TokenScope, VersionRule};

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Sell and deliver paid packages: npm, Cargo, Hex, RubyGems and PyPI from one server",
    mut_args = hide_env_value,
    mut_subcommands = hide_env_values
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
    #[command(flatten)]
    pub billing: BillingArgs,
    /// What to do; without one, `serve` with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--help` names the variable an option reads (`[env: TOLLGATE_DATABASE_URL]`), not its value.
fn hide_env_value(arg: clap::Arg) -> clap::Arg {
    arg.hide_env_values(true)
}

/// [`hide_env_value`] on every option of `cmd` and of all its subcommands.
fn hide_env_values(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(hide_env_value)
        .mut_subcommands(hide_env_values)
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
    /// Yank or restore a release (every file of a PyPI version), with a reason.
    #[command(subcommand)]
    Release(ReleaseCmd),
    /// Sell a product through a Stripe price (or legacy plan).
    #[command(subcommand)]
    Plan(PlanCmd),
    /// Issue and verify offline license keys.
    #[command(subcommand)]
    License(LicenseCmd),
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

/// Mail and Stripe settings (the server's, and the CLI's for billing commands).
#[derive(Debug, Clone, Args)]
pub struct BillingArgs {
    /// Send mail through this SMTP server (`smtp://user:pass@host:587?tls=required`,
    /// `smtps://…:465`, `smtp://host:25`). Default: `.eml` files under `<data>/mail/`.
    #[arg(long, global = true, env = "TOLLGATE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every mail.
    #[arg(
        long,
        global = true,
        env = "TOLLGATE_MAIL_FROM",
        default_value = "Tollgate <tollgate@localhost>"
    )]
    pub mail_from: String,
    /// Another Stripe-compatible API (tests). Default: Stripe.
    #[arg(long, global = true, env = "TOLLGATE_STRIPE_API_BASE")]
    pub stripe_api_base: Option<String>,
    /// The operator's Stripe platform key, for sellers connected with Stripe Connect.
    #[arg(
        long,
        global = true,
        env = "TOLLGATE_STRIPE_SECRET_KEY",
        hide_env_values = true
    )]
    pub stripe_platform_key: Option<String>,
    /// The signing secret of the platform's Connect webhook endpoint (`/stripe/connect/webhook`).
    #[arg(
        long,
        global = true,
        env = "TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub stripe_connect_webhook_secret: Option<String>,
    /// Another Stripe Connect OAuth host (tests). Default: Stripe's.
    #[arg(long, global = true, env = "TOLLGATE_STRIPE_CONNECT_BASE")]
    pub stripe_connect_base: Option<String>,
    /// The platform's Connect client id (`ca_…`): sellers connect on their settings page.
    #[arg(long, global = true, env = "TOLLGATE_STRIPE_CONNECT_CLIENT_ID")]
    pub stripe_connect_client_id: Option<String>,
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
    /// How long a client may take to send a request's headers; a kept-alive connection that
    /// sends no next request within it is closed too.
    #[arg(long, env = "TOLLGATE_HEADER_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed.
    #[arg(long, env = "TOLLGATE_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// How often tokens' last uses (when, from which address, which client) are written: they
    /// are noted in memory on each request and written in one batch this often and at shutdown.
    /// `0s` turns the recording off.
    #[arg(long, env = "TOLLGATE_LAST_USE_FLUSH", default_value = "3s", value_parser = humantime::parse_duration)]
    pub last_use_flush: Duration,
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
    /// Where a seller connects Stripe Connect: its settings page, signed in (no link is printed:
    /// an OAuth link usable by whoever holds it could bind the seller to another account).
    StripeConnectLink {
        slug: String,
        /// This server's public URL. Default: http://127.0.0.1:8080.
        #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Show a seller: its repositories and the Hex public key fingerprint.
    Show { slug: String },
    /// Print a one-time link that signs the seller in to its dashboard (valid 24 hours).
    LoginLink {
        slug: String,
        /// This server's public URL. Default: http://127.0.0.1:8080.
        #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Connect a seller's Stripe account: its own secret key, or (Stripe Connect) its connected
    /// account id with the operator's platform key. Webhooks go to `/{seller}/stripe/webhook`.
    Stripe {
        slug: String,
        /// The seller's secret key (`sk_live_…`, `sk_test_…`, or a restricted `rk_…`).
        #[arg(
            long,
            conflicts_with = "connect_account",
            required_unless_present = "connect_account"
        )]
        secret_key: Option<String>,
        /// Stripe Connect: the seller's connected account (`acct_…`).
        #[arg(long)]
        connect_account: Option<String>,
        /// The signing secret (`whsec_…`) of the seller's own endpoint `/SLUG/stripe/webhook`.
        /// Optional with --connect-account: a Connect seller's events arrive on the platform's
        /// `/stripe/connect/webhook`.
        #[arg(long, required_unless_present = "connect_account")]
        webhook_secret: Option<String>,
    },
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
    /// Print a Stripe customer portal link where the org's admin changes seats, card or plan.
    BillingLink {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        #[arg(long)]
        org: String,
        /// Where the portal returns to. Default: http://localhost:8080.
        #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Print a one-time link that signs a seat holder in to the org's page (valid 24 hours).
    LoginLink {
        #[command(flatten)]
        org: OrgRef,
        /// The member's e-mail address (an active seat of the org).
        email: String,
        /// This server's public URL. Default: http://127.0.0.1:8080.
        #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
        public_url: Option<String>,
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
        /// A bot token of the org (CI, an update bot), labelled LABEL: it takes no seat and
        /// outlives every person of the org.
        #[arg(long, value_name = "LABEL", requires = "org", conflicts_with = "seat")]
        bot: Option<String>,
        /// What the bot token may read: `read` (install) or `metadata` (listings and checksums,
        /// never an archive: enough for Renovate and lockfile-only updates).
        #[arg(long, requires = "bot", default_value = "read")]
        scope: TokenScope,
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
pub enum ReleaseCmd {
    /// Yank a release: new resolutions skip it, as each ecosystem's yank does (the packages
    /// page says what that means per ecosystem). Hex has no yank: retire there.
    Yank {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        /// `ecosystem:name`, e.g. `pypi:acme-pro`.
        package: PackageRef,
        version: String,
        /// Why, shown to buyers where the client prints it (pip and uv print PyPI's).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Restore a yanked release (and drop its reason).
    Unyank {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        package: PackageRef,
        version: String,
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

#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Map a Stripe price to a product: `/{seller}/buy/{plan}` sells it.
    Create {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        #[arg(long)]
        product: String,
        /// `price_…`, or a legacy `plan_…` (Stripe accepts either).
        #[arg(long)]
        stripe_price: String,
        /// `per-quantity`: the subscription quantity caps the seats; or `unlimited`.
        #[arg(long, default_value = "per-quantity")]
        seats: tollgate_registry::domain::SeatMode,
        #[arg(long, default_value = "while_active")]
        rule: VersionRule,
        /// How long access continues after a failed payment.
        #[arg(long, default_value_t = 7)]
        grace_days: u32,
        /// The plan's name in its buy link. Default: the product's.
        #[arg(long)]
        slug: Option<String>,
    },
    List {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LicenseCmd {
    /// Print a signed license key for an org's license to a product (from its entitlements).
    Issue {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        product: String,
    },
    /// Print the seller's license public key (`ed25519:…`).
    PublicKey {
        #[arg(long, env = "TOLLGATE_SELLER")]
        seller: String,
    },
    /// Check a license key offline (no server, no database): exit 0 when valid.
    Verify {
        /// A file holding the license key (`-` for standard input).
        file: PathBuf,
        #[arg(long)]
        public_key: String,
    },
}

#[cfg(test)]
mod tests {
    use super::scope::SCOPED;

    /// Every argument of every command that reads a variable hides its value in `--help`.
    #[test]
    fn help_never_shows_an_environment_value() {
        fn walk(cmd: &clap::Command, path: &str, bad: &mut Vec<String>, seen: &mut usize) {
            for arg in cmd.get_arguments() {
                if arg.get_env().is_some() {
                    *seen += 1;
                    if !arg.is_hide_env_values_set() {
                        bad.push(format!("{path} --{}", arg.get_id()));
                    }
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), bad, seen);
            }
        }
        let mut cli = super::scope::command::<super::Cli>();
        // As parsing sees it: global options copied into every subcommand.
        cli.build();
        let mut bad = Vec::new();
        let mut seen = 0;
        walk(&cli, "tollgate", &mut bad, &mut seen);
        assert!(
            seen > 10,
            "only {seen} arguments read a variable: the walk missed some"
        );
        assert!(
            bad.is_empty(),
            "these show their variable's value in --help: {bad:?}"
        );
    }

    /// The help of `path` (`tollgate seat revoke`), as `--help` prints it.
    fn help(path: &str) -> String {
        let mut cmd = super::scope::command::<super::Cli>();
        for name in path.split(' ').skip(1) {
            cmd = cmd
                .find_subcommand(name)
                .unwrap_or_else(|| panic!("no command {path}"))
                .clone();
        }
        cmd.render_long_help().to_string()
    }

    /// Does `help` list `option` (`--store`), as opposed to only mentioning it?
    fn lists(help: &str, option: &str) -> bool {
        help.lines().any(|line| {
            line.trim_start()
                .strip_prefix(option)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
    }

    /// Each command's `--help` shows the store, mail and Stripe options only where it uses them,
    /// and the database options everywhere but the offline key check.
    #[test]
    fn each_command_shows_its_own_options() {
        let options = |ids: &[&str]| -> Vec<String> {
            ids.iter()
                .map(|id| format!("--{}", id.replace('_', "-")))
                .collect()
        };
        for path in [
            "tollgate serve",
            "tollgate gc",
            "tollgate seat revoke",
            "tollgate org billing-link",
            "tollgate seller create",
            "tollgate token create",
            "tollgate license verify",
        ] {
            let text = help(path);
            for (heading, ids, commands) in SCOPED {
                for option in options(ids) {
                    assert_eq!(
                        lists(&text, &option),
                        commands.contains(&path),
                        "{path} --help and {option} ({heading}):\n{text}"
                    );
                }
            }
            assert_eq!(
                lists(&text, "--database-url"),
                path != "tollgate license verify",
                "{path}:\n{text}"
            );
        }
        // Pinned, so that a change to SCOPED shows here: (command, store, mail, Stripe).
        for (path, store, mail, stripe) in [
            ("tollgate serve", true, true, true),
            ("tollgate gc", true, false, false),
            ("tollgate seat revoke", false, true, false),
            ("tollgate org billing-link", false, true, true),
            ("tollgate seller create", false, false, false),
        ] {
            let text = help(path);
            assert_eq!(lists(&text, "--store"), store, "{path}");
            assert_eq!(lists(&text, "--smtp-url"), mail, "{path}");
            assert_eq!(lists(&text, "--stripe-platform-key"), stripe, "{path}");
        }
        // The top command lists everything, each under its group.
        let top = help("tollgate");
        for (heading, ids, _) in SCOPED {
            assert!(top.contains(heading), "{heading}:\n{top}");
            for option in options(ids) {
                assert!(lists(&top, &option), "{option}:\n{top}");
            }
        }
    }

    /// An option given after the command still reaches it, as before the command.
    #[test]
    fn options_parse_before_and_after_the_command() {
        use clap::FromArgMatches;
        for args in [
            &["tollgate", "--data", "/d", "gc", "--store", "s3://b/p"][..],
            &["tollgate", "gc", "--data", "/d", "--store", "s3://b/p"][..],
        ] {
            let matches = super::scope::command::<super::Cli>()
                .try_get_matches_from(args)
                .expect("parses");
            let cli = super::Cli::from_arg_matches(&matches).expect("cli");
            assert_eq!(cli.data, std::path::PathBuf::from("/d"), "{args:?}");
            assert_eq!(cli.store.as_deref(), Some("s3://b/p"), "{args:?}");
        }
    }
}
