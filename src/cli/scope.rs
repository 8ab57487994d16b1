//! Each command's `--help` shows the options it uses: the store, mail and Stripe settings are
//! global options (one environment serves every command), hidden from the commands that do not
//! use them.

use super::Cli;

/// The options that only some commands use, by group: `--help` of every other command leaves
/// them out (the top command's `--help` lists them all, under their group's heading). The
/// variables they read still reach every command, so one environment serves them all.
const SCOPED: &[(&str, &[&str], &[&str])] = &[
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

/// The command line as parsed: [`Cli`] with each command's `--help` showing only its options.
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// [`Cli`]'s command, with the [`SCOPED`] options hidden where they do not apply.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
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

#[cfg(test)]
mod tests {
    use super::SCOPED;

    /// The help of `path` (`tollgate seat revoke`), as `--help` prints it.
    fn help(path: &str) -> String {
        let mut cmd = super::command();
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
            let matches = super::command().try_get_matches_from(args).expect("parses");
            let cli = super::Cli::from_arg_matches(&matches).expect("cli");
            assert_eq!(cli.data, std::path::PathBuf::from("/d"), "{args:?}");
            assert_eq!(cli.store.as_deref(), Some("s3://b/p"), "{args:?}");
        }
    }
}
