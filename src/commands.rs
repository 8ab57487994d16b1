//! The admin commands: they work directly on the database a running server uses, whose caches
//! notice each change through the change log within a fraction of a second.

use anyhow::{Context as _, anyhow, bail};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use tollgate_registry::Registry;

use tollgate_registry::db::{Backend, Db, LinkPurpose, redact_url};
use tollgate_registry::domain::{NewToken, TokenKind};
use tollgate_registry::ids::TokenId;
use tollgate_registry::registry::{CHANGE_POLL, Options};
use tollgate_registry::secret::SecretBox;
use tollgate_registry::store::Store;
use tollgate_registry::time::Timestamp;
use tollgate_registry::token;

use crate::cli::{
    Cli, Command, GrantArgs, GrantSub, OrgCmd, ProductCmd, SeatCmd, SellerCmd, TokenCmd,
};

/// What every command needs: the database, the store and how to print.
pub struct Context {
    pub registry: Registry,
    /// Mail and Stripe settings.
    pub billing: crate::cli::BillingArgs,
    pub data: std::path::PathBuf,
    /// Seals the secrets kept in the database (signing keys, later Stripe keys).
    pub secrets: Arc<SecretBox>,
    pub json: bool,
}

impl Context {
    pub async fn open(cli: &Cli) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&cli.data)
            .with_context(|| format!("cannot create the data directory {}", cli.data.display()))?;
        let db_url = match &cli.database_url {
            Some(url) => url.clone(),
            None => cli.data.join("tollgate.db").display().to_string(),
        };
        let db = Db::connect(&db_url).await.with_context(|| {
            format!(
                "cannot open the database {} (TOLLGATE_DATABASE_URL / --database-url)",
                redact_url(&db_url)
            )
        })?;
        let spec = match &cli.store {
            Some(s) => s.clone(),
            None => cli.data.display().to_string(),
        };
        // The store's own errors name TOLLGATE_STORE and what is wrong with it.
        let store = Store::connect(&spec)
            .await
            .context("cannot open the package store")?;
        let secrets = secret_box(cli, db.backend())?;
        // Values sealed by earlier versions name no row; bind each to its own (issue 16).
        tollgate_registry::secret::bind_legacy(&db, &secrets)
            .await
            .context("cannot rebind the stored secrets to their rows")?;
        Ok(Self {
            registry: Registry::open(db, store, options(cli)).await?,
            billing: cli.billing.clone(),
            data: cli.data.clone(),
            secrets: Arc::new(secrets),
            json: cli.json,
        })
    }

    fn db(&self) -> &Db {
        self.registry.db()
    }

    /// Prints `value` as JSON with `--json`, else the human text.
    pub fn print<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        use std::io::Write;
        let out = if self.json {
            serde_json::to_string_pretty(value)?
        } else {
            text()
        };
        // A closed pipe (`| head -1`) is not an error of the command.
        match writeln!(std::io::stdout().lock(), "{out}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }
}

/// The installation's secret key. With PostgreSQL several servers share the database, so they
/// must share the key too: a key file in one server's data directory would not do.
fn secret_box(cli: &Cli, backend: Backend) -> anyhow::Result<SecretBox> {
    if backend == Backend::Postgres && std::env::var_os("TOLLGATE_SECRET_KEY").is_none() {
        bail!(
            "TOLLGATE_SECRET_KEY is not set: with PostgreSQL every server must seal the secrets it \
             stores with the same key; set it to 32 random bytes in base64 (`openssl rand -base64 32`)"
        );
    }
    Ok(SecretBox::from_env_or_file(&cli.data)?)
}

/// Presigned downloads live for five minutes: long enough to start, short enough not to share.
const PRESIGN_TTL: std::time::Duration = std::time::Duration::from_secs(300);

fn options(cli: &Cli) -> Options {
    Options {
        presign: cli.s3_presign.then_some(PRESIGN_TTL),
    }
}

/// Runs an admin command. When it changed what callers may see, it returns only once running
/// servers have applied the change: they read the change log every `CHANGE_POLL` (PostgreSQL
/// servers also hear NOTIFY at once), so after `tollgate seat revoke` returns, the very next
/// request with that seat's token is refused.
pub async fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let before = ctx.db().last_change().await?;
    let result = dispatch(ctx, command).await;
    if ctx.db().last_change().await? > before {
        tokio::time::sleep(CHANGE_POLL * 3).await;
    }
    result
}

async fn dispatch(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => unreachable_serve(),
        Command::Migrate => ctx.print(&json!({"migrated": true}), || {
            "database is up to date".into()
        }),
        Command::Seller(cmd) => seller(ctx, cmd).await,
        Command::Product(cmd) => product(ctx, cmd).await,
        Command::Org(cmd) => org(ctx, cmd).await,
        Command::Grant(args) => grant(ctx, args).await,
        Command::Token(cmd) => token_cmd(ctx, cmd).await,
        Command::Seat(cmd) => seat(ctx, cmd).await,
        Command::Plan(cmd) => crate::billing_cmd::plan(ctx, cmd).await,
        Command::License(cmd) => crate::billing_cmd::license(ctx, cmd).await,
        Command::Gc { grace } => {
            let report = ctx.registry.collect_garbage(grace).await?;
            ctx.print(&report, || {
                format!(
                    "removed {} orphan blob(s); kept {} referenced; {} orphan(s) younger than {}",
                    report.removed,
                    report.kept,
                    report.too_young,
                    humantime::format_duration(grace)
                )
            })
        }
        Command::Downloads { seller, limit } => {
            let seller = ctx.db().seller(&seller).await?;
            let events = ctx.db().downloads(seller.id, limit).await?;
            ctx.print(&events, || {
                events
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {}@{}  token {}",
                            e.at.rfc3339(),
                            e.package,
                            e.version,
                            e.token_id
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

fn unreachable_serve() -> anyhow::Result<()> {
    bail!("serve is handled by the server module")
}

async fn seller(ctx: &Context, cmd: SellerCmd) -> anyhow::Result<()> {
    match cmd {
        SellerCmd::Create { slug, name, email } => {
            check_slug(&slug)?;
            let s = ctx.db().create_seller(&slug, &name, &email).await?;
            let hex = tollgate_hex::keys::ensure(&ctx.registry, &ctx.secrets, &s).await?;
            let shown = SellerShown::new(&s, hex.fingerprint());
            ctx.print(&shown, || {
                format!(
                    "created seller {slug}\n{}\nnext: tollgate token create --seller {slug} --publish",
                    shown.text()
                )
            })
        }
        SellerCmd::Stripe {
            slug,
            secret_key,
            connect_account,
            webhook_secret,
        } => {
            crate::billing_cmd::connect_stripe(
                ctx,
                &slug,
                secret_key,
                connect_account,
                webhook_secret.as_deref(),
            )
            .await
        }
        SellerCmd::StripeConnectLink { slug, public_url } => {
            crate::billing_cmd::connect_link(ctx, &slug, public_url).await
        }
        SellerCmd::Show { slug } => {
            let s = ctx.db().seller(&slug).await?;
            let hex = tollgate_hex::keys::ensure(&ctx.registry, &ctx.secrets, &s).await?;
            let mut shown = SellerShown::new(&s, hex.fingerprint());
            shown.stripe = ctx
                .db()
                .stripe_connection(s.id)
                .await?
                .map(|c| match c.account_id {
                    Some(account) => format!("connect {account}"),
                    None => "own secret key".to_owned(),
                });
            ctx.print(&shown, || {
                let stripe = shown.stripe.as_deref().unwrap_or("not connected");
                format!(
                    "{} ({})\n{}\nstripe:   {stripe}",
                    s.name,
                    s.email,
                    shown.text()
                )
            })
        }
        SellerCmd::LoginLink { slug, public_url } => {
            let s = ctx.db().seller(&slug).await?;
            let link = tollgate_web::links::issue(
                ctx.db(),
                &public_url_or_default(public_url),
                LinkPurpose::Seller,
                &s,
                None,
                &s.email,
                tollgate_web::links::PRINTED_SIGN_IN,
            )
            .await?;
            ctx.print(&json!({ "link": link }), || {
                format!("{link}\n(signs {} in once, within 24 hours)", s.email)
            })
        }
        SellerCmd::List => {
            let all = ctx.db().sellers().await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|s| format!("{}  {}", s.slug, s.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// A seller as `seller create|show` print it: where its repositories are and the Hex key
/// fingerprint buyers pass to `mix hex.repo add --fetch-public-key`.
#[derive(Serialize)]
struct SellerShown {
    #[serde(flatten)]
    seller: tollgate_registry::domain::Seller,
    hex_repository: String,
    hex_public_key_fingerprint: String,
    /// How the seller bills: `connect acct_…`, `own secret key`, or not connected.
    stripe: Option<String>,
}

impl SellerShown {
    fn new(seller: &tollgate_registry::domain::Seller, fingerprint: &str) -> Self {
        Self {
            seller: seller.clone(),
            hex_repository: seller.slug.clone(),
            hex_public_key_fingerprint: fingerprint.to_owned(),
            stripe: None,
        }
    }

    /// One line per ecosystem served: its repository (relative to the public URL).
    fn text(&self) -> String {
        let slug = &self.seller.slug;
        let place = tollgate_registry::ecosystem::Place {
            public_url: "",
            seller: slug,
        };
        let line = |e: &dyn tollgate_registry::ecosystem::EcosystemInfo| {
            let label = format!("{}:", e.metrics_label());
            let key = e.seller_key().map_or(String::new(), |_| {
                let fingerprint = &self.hex_public_key_fingerprint;
                format!(" (repository name `{slug}`, public key {fingerprint})")
            });
            format!("{label:<9} {}{key}", e.repository_url(&place))
        };
        let lines: Vec<String> = crate::server::ECOSYSTEMS.iter().map(line).collect();
        lines.join("\n")
    }
}

async fn product(ctx: &Context, cmd: ProductCmd) -> anyhow::Result<()> {
    match cmd {
        ProductCmd::Create {
            seller,
            product,
            name,
            packages,
        } => {
            check_slug(&product)?;
            let seller = ctx.db().seller(&seller).await?;
            let name = name.unwrap_or_else(|| product.clone());
            let p = ctx
                .db()
                .create_product(seller.id, &product, &name, &packages)
                .await?;
            ctx.print(&p, || {
                format!(
                    "created product {product} with {} package(s)",
                    p.packages.len()
                )
            })
        }
        ProductCmd::List { seller } => {
            let seller = ctx.db().seller(&seller).await?;
            let all = ctx.db().products(seller.id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|p| {
                        let pkgs: Vec<String> =
                            p.packages.iter().map(ToString::to_string).collect();
                        format!("{}  {}", p.slug, pkgs.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

async fn org(ctx: &Context, cmd: OrgCmd) -> anyhow::Result<()> {
    match cmd {
        OrgCmd::Create { seller, org, name } => {
            check_slug(&org)?;
            let seller = ctx.db().seller(&seller).await?;
            let o = ctx.db().create_org(seller.id, &org, &name).await?;
            ctx.print(&o, || format!("created org {org}"))
        }
        OrgCmd::List { seller } => {
            let seller = ctx.db().seller(&seller).await?;
            let all = ctx.db().orgs(seller.id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|o| format!("{}  {}", o.slug, o.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        OrgCmd::BillingLink {
            seller,
            org,
            public_url,
        } => crate::billing_cmd::billing_link(ctx, &seller, &org, public_url).await,
        OrgCmd::LoginLink {
            org,
            email,
            public_url,
        } => {
            let seller = ctx.db().seller(&org.seller).await?;
            let org = ctx.db().org(seller.id, &org.org).await?;
            let seats = ctx.db().seats(org.id).await?;
            if !seats
                .iter()
                .any(|s| s.active && s.email.eq_ignore_ascii_case(&email))
            {
                bail!(
                    "{email} holds no active seat in {}; add one with `tollgate seat add --seller {} --org {} {email}`",
                    org.slug,
                    seller.slug,
                    org.slug
                );
            }
            let link = tollgate_web::links::issue(
                ctx.db(),
                &public_url_or_default(public_url),
                LinkPurpose::Member,
                &seller,
                Some(&org),
                &email,
                tollgate_web::links::PRINTED_SIGN_IN,
            )
            .await?;
            ctx.print(&json!({ "link": link }), || {
                format!(
                    "{link}\n(signs {email} in to {} once, within 24 hours)",
                    org.slug
                )
            })
        }
    }
}

/// The public URL given, without its trailing `/`, or the default listen address.
fn public_url_or_default(url: Option<String>) -> String {
    url.unwrap_or_else(|| "http://127.0.0.1:8080".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

async fn grant(ctx: &Context, args: GrantArgs) -> anyhow::Result<()> {
    if let Some(GrantSub::End(t)) = args.end {
        let seller = ctx.db().seller(&t.seller).await?;
        let org = ctx.db().org(seller.id, &t.org).await?;
        let product = ctx.db().product(seller.id, &t.product).await?;
        let n = ctx
            .db()
            .end_grants(org.id, product.id, Timestamp::now())
            .await?;
        if n == 0 {
            bail!("org {} has no open grant of {}", t.org, t.product);
        }
        return ctx.print(&json!({"ended": n}), || {
            format!("ended {n} grant(s) of {} for {}", t.product, t.org)
        });
    }
    let t = args
        .target
        .ok_or_else(|| anyhow!("grant needs --seller, --org and --product"))?;
    let seller = ctx.db().seller(&t.seller).await?;
    let org = ctx.db().org(seller.id, &t.org).await?;
    let product = ctx.db().product(seller.id, &t.product).await?;
    let until = args
        .until
        .as_deref()
        .map(|u| {
            Timestamp::parse_rfc3339(u)
                .ok_or_else(|| anyhow!("--until `{u}` is not an RFC 3339 time"))
        })
        .transpose()?;
    let e = ctx
        .db()
        .grant(
            org.id,
            product.id,
            Timestamp::now(),
            until,
            args.rule,
            "manual",
        )
        .await?;
    ctx.print(&e, || {
        let until = until.map_or("until ended".into(), |u| format!("until {}", u.rfc3339()));
        format!(
            "granted {} to {} ({}, {until})",
            t.product,
            t.org,
            args.rule.as_str()
        )
    })
}

async fn token_cmd(ctx: &Context, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create {
            seller,
            publish,
            packages,
            org,
            seat,
        } => {
            let seller = ctx.db().seller(&seller).await?;
            let (kind, org_id, seat_id) = if publish {
                (TokenKind::Publish, None, None)
            } else {
                let slug = org.ok_or_else(|| anyhow!("pass --publish or --org ORG"))?;
                let org = ctx.db().org(seller.id, &slug).await?;
                match seat {
                    Some(email) => {
                        let seats = ctx.db().seats(org.id).await?;
                        let seat = seats
                            .into_iter()
                            .find(|s| s.email.eq_ignore_ascii_case(email.trim()) && s.active)
                            .ok_or_else(|| anyhow!("org {slug} has no active seat {email}; add it with `tollgate seat add`"))?;
                        (TokenKind::Seat, Some(org.id), Some(seat.id))
                    }
                    None => (TokenKind::Org, Some(org.id), None),
                }
            };
            let generated = token::generate();
            ctx.db()
                .create_token(&NewToken {
                    id: generated.id.clone(),
                    secret_hash: generated.secret_hash.clone(),
                    kind,
                    seller_id: seller.id,
                    org_id,
                    seat_id,
                    packages,
                })
                .await?;
            if !ctx.json {
                eprintln!(
                    "created {} token {} (shown once; store it now)",
                    kind.as_str(),
                    generated.id
                );
            }
            ctx.print(
                &json!({"id": generated.id, "kind": kind.as_str(), "token": generated.secret}),
                || generated.secret.clone(),
            )
        }
        TokenCmd::Revoke { id } => {
            let t = ctx
                .db()
                .revoke_token(&TokenId(id.clone()), Timestamp::now())
                .await?;
            ctx.print(&t, || format!("revoked token {id}"))
        }
        TokenCmd::List { seller } => {
            let seller_id = match seller {
                Some(s) => Some(ctx.db().seller(&s).await?.id),
                None => None,
            };
            let all = ctx.db().tokens(seller_id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|t| {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        let owner = t
                            .seat_email
                            .clone()
                            .or(t.org_slug.clone())
                            .unwrap_or(t.seller_slug.clone());
                        format!("{}  {:<7} {:<7} {owner}", t.id, t.kind.as_str(), state)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

async fn seat(ctx: &Context, cmd: SeatCmd) -> anyhow::Result<()> {
    let org_ref = match &cmd {
        SeatCmd::Add { org, .. } | SeatCmd::Revoke { org, .. } | SeatCmd::List { org } => org,
    };
    let seller = ctx.db().seller(&org_ref.seller).await?;
    let org = ctx.db().org(seller.id, &org_ref.org).await?;
    match cmd {
        SeatCmd::Add { email, admin, .. } => {
            // An address mail cannot go to would break its sign-in later: refuse it now.
            if tollgate_billing::mail::check_address(email.trim()).is_err() {
                bail!("`{email}` is not an e-mail address (like user@example.com)");
            }
            let role = if admin { "admin" } else { "member" };
            let s = ctx.db().add_seat(org.id, &email, role).await?;
            ctx.print(&s, || {
                format!("{email} holds a seat in {} ({role})", org.slug)
            })
        }
        SeatCmd::Revoke { email, .. } => {
            let s = ctx
                .db()
                .revoke_seat(org.id, &email, Timestamp::now())
                .await?;
            crate::billing_cmd::mail_seat_revoked(ctx, &seller, &org, &email).await;
            ctx.print(&s, || {
                format!("revoked the seat of {email}; its tokens no longer work")
            })
        }
        SeatCmd::List { .. } => {
            let all = ctx.db().seats(org.id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|s| {
                        format!(
                            "{}  {}  {}",
                            s.email,
                            s.role,
                            if s.active { "active" } else { "revoked" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// Slugs appear in URLs: lowercase letters, digits and `-`.
pub fn check_slug(slug: &str) -> anyhow::Result<()> {
    if !tollgate_registry::domain::is_slug(slug) {
        bail!("`{slug}` is not a valid slug: use lowercase letters, digits and `-`");
    }
    Ok(())
}
