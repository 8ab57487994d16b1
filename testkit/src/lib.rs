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
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_owned();
    eprintln!("SKIPPED {test}: {why}");
    let Some(log) = std::env::var_os("TOLLGATE_SKIP_LOG") else {
        return;
    };
    // One short line per skip; appends of this size land whole even from parallel tests.
    let line = format!("{what}\t{why}\t{test}\n");
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(log) {
        let _ = f.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Environment variables are process-wide: these tests use names no other test reads.
    const FAKE: Service = Service {
        name: "Fake",
        vars: &["TOLLGATE_TESTKIT_FAKE_A", "TOLLGATE_TESTKIT_FAKE_B"],
        script: "scripts/fake",
    };

    #[test]
    fn a_service_is_there_only_when_every_variable_is_set() {
        // SAFETY: no other test touches these variables.
        unsafe {
            std::env::set_var("TOLLGATE_TESTKIT_FAKE_A", "http://a");
            std::env::remove_var("TOLLGATE_TESTKIT_FAKE_B");
        }
        assert!(!FAKE.configured());
        if !in_ci() {
            assert_eq!(FAKE.url(), None);
        }
        unsafe { std::env::set_var("TOLLGATE_TESTKIT_FAKE_B", "/tmp/b") };
        assert!(FAKE.configured());
        assert_eq!(FAKE.url().as_deref(), Some("http://a"));
    }

    #[test]
    fn a_missing_tool_is_reported() {
        if !in_ci() {
            assert!(!tool("tollgate-no-such-program", "nowhere"));
        }
        assert!(tool("cargo", "rustup"));
    }

    #[test]
    fn under_ci_a_missing_service_fails_naming_it_and_its_script() {
        // A child process of this test binary, with CI set, runs the check below.
        if std::env::var_os("TOLLGATE_TESTKIT_CHILD").is_some() {
            let _ = FAKE_ABSENT.url();
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::under_ci_a_missing_service_fails_naming_it_and_its_script",
                "--nocapture",
            ])
            .env("TOLLGATE_TESTKIT_CHILD", "1")
            .env("CI", "true")
            .env_remove("TOLLGATE_TESTKIT_ABSENT")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}");
        assert!(
            text.contains("Absent is not running: TOLLGATE_TESTKIT_ABSENT not set")
                && text.contains("scripts/absent start DIR")
                && text.contains("a failure, not a skip"),
            "{text}"
        );
    }

    const FAKE_ABSENT: Service = Service {
        name: "Absent",
        vars: &["TOLLGATE_TESTKIT_ABSENT"],
        script: "scripts/absent",
    };
}
