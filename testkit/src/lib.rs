//! What a test needs from the machine: a running service (PostgreSQL, S3, Stripe, SMTP) or an
//! installed client tool. Outside CI a missing one skips the test: the reason is printed and, when
//! `TOLLGATE_SKIP_LOG` names a file (`scripts/test` sets it), appended there so the run ends with
//! a list of what was skipped. With `CI` set a missing one fails the test instead, with one
//! message naming the service and the script that starts it.

use std::io::Write;

/// A service started by a script under `scripts/`, found through environment variables.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// How people call it ("PostgreSQL").
    pub name: &'static str,
    /// Every variable the tests read; the first one's value is what [`Service::url`] returns.
    pub vars: &'static [&'static str],
    /// The script that starts it and prints the variables.
    pub script: &'static str,
}

pub const POSTGRES: Service = Service {
    name: "PostgreSQL",
    vars: &["TOLLGATE_TEST_POSTGRES_URL"],
    script: "scripts/postgres",
};

pub const S3: Service = Service {
    name: "S3 (moto)",
    vars: &["TOLLGATE_TEST_S3_ENDPOINT"],
    script: "scripts/s3",
};

pub const STRIPE: Service = Service {
    name: "Stripe (localstripe)",
    vars: &["TOLLGATE_TEST_STRIPE_URL"],
    script: "scripts/stripe",
};

pub const SMTP: Service = Service {
    name: "SMTP sink (aiosmtpd)",
    vars: &["TOLLGATE_TEST_SMTP_URL", "TOLLGATE_TEST_SMTP_DIR"],
    script: "scripts/smtp",
};

impl Service {
    /// The first variable's value when every variable is set; otherwise the test is skipped
    /// (`None`) or, under CI, fails here.
    pub fn url(&self) -> Option<String> {
        let missing: Vec<&str> = self
            .vars
            .iter()
            .copied()
            .filter(|v| std::env::var(v).map_or(true, |s| s.is_empty()))
            .collect();
        if missing.is_empty() {
            return std::env::var(self.vars[0]).ok();
        }
        let why = format!(
            "{} is not running: {} not set; `eval \"$({} start DIR)\"` starts it (.ci/run does)",
            self.name,
            missing.join(" and "),
            self.script
        );
        absent(self.name, &why);
        None
    }

    /// Whether the service is configured, without skipping or failing anything: for tests that
    /// use it when present and do something else otherwise.
    pub fn configured(&self) -> bool {
        self.vars
            .iter()
            .all(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
    }
}

/// Whether `program` runs (`program --version`); when it does not, the test is skipped or,
/// under CI, fails here. `install` says how to get it ("apt-get install ruby").
pub fn tool(program: &str, install: &str) -> bool {
    let runs = std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !runs {
        absent(
            program,
            &format!("`{program}` is not installed ({install}; .ci/run installs it)"),
        );
    }
    runs
}

/// Records a skip that is expected even in CI (a client that no reachable registry carries).
pub fn skipped(what: &str, why: &str) {
    record(what, why);
}

/// Whether this is a CI run, where nothing a test needs may be missing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn absent(what: &str, why: &str) {
    if in_ci() {
        panic!("{why}; CI is set, so a missing {what} is a failure, not a skip");
    }
    record(what, why);
}

fn record(what: &str, why: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    eprintln!("SKIPPED {test}: {why}");
    let Some(log) = std::env::var_os("TOLLGATE_SKIP_LOG") else {
        return;
    };
    // One short line per skip; appends of this size land whole even from parallel tests.
    let line = format!("{what}\t{why}\t{test}\n");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Environment variables are process-wide and tests may not change them (no `unsafe`), so each
    // case runs in a child process of this test binary with the environment it needs.
    const FAKE: Service = Service {
        name: "Fake",
        vars: &["TOLLGATE_TESTKIT_FAKE_A", "TOLLGATE_TESTKIT_FAKE_B"],
        script: "scripts/fake",
    };

    /// In the child: runs the case `TOLLGATE_TESTKIT_CASE` names and prints what it found.
    #[test]
    fn child() {
        match std::env::var("TOLLGATE_TESTKIT_CASE").as_deref() {
            Ok("service") => println!("url={:?} configured={}", FAKE.url(), FAKE.configured()),
            Ok("tool") => println!("tool={}", tool("tollgate-no-such-program", "nowhere")),
            _ => {}
        }
    }

    fn run(case: &str, env: &[(&str, &str)]) -> (bool, String) {
        let mut cmd =
            std::process::Command::new(std::env::current_exe().expect("this test binary"));
        cmd.args(["--exact", "tests::child", "--nocapture", "--test-threads=1"])
            .env("TOLLGATE_TESTKIT_CASE", case)
            .env_remove("CI")
            .env_remove("TOLLGATE_TESTKIT_FAKE_A")
            .env_remove("TOLLGATE_TESTKIT_FAKE_B");
        let log = tempfile_path(case);
        cmd.env("TOLLGATE_SKIP_LOG", &log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run the child test");
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let text = format!(
            "{}{}\nLOG:{logged}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn tempfile_path(case: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "tollgate-testkit-{case}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ))
    }

    #[test]
    fn a_service_is_there_only_when_every_variable_is_set() {
        let (ok, text) = run(
            "service",
            &[
                ("TOLLGATE_TESTKIT_FAKE_A", "http://a"),
                ("TOLLGATE_TESTKIT_FAKE_B", "/tmp/b"),
            ],
        );
        assert!(ok, "{text}");
        assert!(
            text.contains("url=Some(\"http://a\") configured=true"),
            "{text}"
        );
        assert!(!text.contains("SKIPPED"), "{text}");
    }

    #[test]
    fn outside_ci_a_missing_service_is_skipped_and_logged() {
        let (ok, text) = run("service", &[("TOLLGATE_TESTKIT_FAKE_A", "http://a")]);
        assert!(ok, "{text}");
        assert!(text.contains("url=None configured=false"), "{text}");
        assert!(
            text.contains("LOG:Fake\tFake is not running: TOLLGATE_TESTKIT_FAKE_B not set")
                && text.contains("scripts/fake start DIR")
                && text.contains("\ttests::child\n"),
            "{text}"
        );
    }

    #[test]
    fn under_ci_a_missing_service_fails_naming_it_and_its_script() {
        let (ok, text) = run("service", &[("CI", "true")]);
        assert!(!ok, "{text}");
        assert!(
            text.contains(
                "Fake is not running: TOLLGATE_TESTKIT_FAKE_A and TOLLGATE_TESTKIT_FAKE_B not set"
            ) && text.contains("scripts/fake start DIR")
                && text.contains("a failure, not a skip"),
            "{text}"
        );
        // `CI=false` is how some runners say "not CI".
        let (ok, text) = run("service", &[("CI", "false")]);
        assert!(ok && text.contains("url=None"), "{text}");
    }

    #[test]
    fn a_missing_tool_is_skipped_outside_ci_and_fails_under_it() {
        let (ok, text) = run("tool", &[]);
        assert!(ok && text.contains("tool=false"), "{text}");
        assert!(text.contains("LOG:tollgate-no-such-program\t"), "{text}");
        let (ok, text) = run("tool", &[("CI", "1")]);
        assert!(!ok, "{text}");
        assert!(
            text.contains("`tollgate-no-such-program` is not installed (nowhere"),
            "{text}"
        );
        assert!(tool("cargo", "rustup"), "cargo runs this test");
    }
}
