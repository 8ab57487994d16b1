//! Each command's `--help` shows the options it uses: the store, mail and Stripe settings are
//! global options (one environment serves every command), hidden from the commands that do not
//! use them.

use clap::{CommandFactory, FromArgMatches};

/// The options that only some commands use, by group: `--help` of every other command leaves
/// them out (the top command's `--help` lists them all, under their group's heading). The
/// variables they read still reach every command, so one environment serves them all.
pub const SCOPED: &[(&str, &[&str], &[&str])] = &[
    (
        "Package store",
        &["store", "s3_presign"],
        &["tollgate serve", "tollgate gc"],
    ),
    (
        "Mail",
        &["smtp_url", "mail_from"],
        &[
            "tollgate serve",
            "tollgate seat revoke",
            "tollgate org billing-link",
        ],
    ),
    (
        "Stripe",
        &[
            "stripe_api_base",
            "stripe_platform_key",
            "stripe_connect_webhook_secret",
            "stripe_connect_base",
            "stripe_connect_client_id",
        ],
        &["tollgate serve", "tollgate org billing-link"],
    ),
];

/// The command line as parsed, with each command's `--help` showing only its options.
pub fn parse<C: CommandFactory + FromArgMatches>() -> C {
    let matches = command::<C>().get_matches();
    C::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `C`'s command, with the [`SCOPED`] options hidden where they do not apply.
pub fn command<C: CommandFactory>() -> clap::Command {
    let mut cmd = C::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().help_heading(heading(a.get_id().as_str())))
        .collect();
    for arg in &globals {
        cmd = cmd.mut_arg(arg.get_id(), |_| arg.clone());
    }
    scope(cmd, "tollgate", &globals)
}

/// The `--help` heading of a global option: its [`SCOPED`] group's, or the options every
/// command has.
fn heading(id: &str) -> &'static str {
    SCOPED
        .iter()
        .find(|(_, ids, _)| ids.contains(&id))
        .map_or("Database and output", |(heading, _, _)| heading)
}

/// Gives each subcommand its own copy of the global options, hidden where they do not apply
/// (clap copies a global option into a subcommand only where it is not there yet, so these
/// copies are the ones parsed, and their values still reach the top command).
fn scope(mut cmd: clap::Command, path: &str, globals: &[clap::Arg]) -> clap::Command {
    if path != "tollgate" {
        for arg in globals {
            let id = arg.get_id().as_str();
            let hide = SCOPED
                .iter()
                .any(|(_, ids, commands)| ids.contains(&id) && !commands.contains(&path))
                || (path == "tollgate license verify" && ["data", "database_url"].contains(&id));
            cmd = cmd.arg(arg.clone().hide(hide));
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let sub_path = format!("{path} {name}");
        cmd = cmd.mut_subcommand(&name, |sub| scope(sub, &sub_path, globals));
    }
    cmd
}
