//! The messages Tollgate sends, as pure functions from the facts to a [`Message`]. Plain text: every
//! link and token sits alone on its line so that it can be copied whole.

use std::fmt::Write as _;

use super::message::Message;

/// Facts for [`purchase_welcome`].
#[derive(Clone, Debug)]
pub struct Welcome {
    pub to: String,
    pub seller_name: String,
    pub product: String,
    pub org: String,
    /// Paid seats; `None` for a plan with unlimited seats.
    pub seats: Option<u32>,
    /// One-time link to the org admin pages.
    /// `None` while the installation has no org admin pages: the seller manages seats then.
    pub sign_in_link: Option<String>,
    /// The org token, shown in this mail only.
    pub token: String,
    /// (ecosystem title, ready-to-paste set-up), in the order to show them.
    pub setup: Vec<(String, String)>,
    /// The signed license key, when the product has one.
    pub license_key: Option<String>,
}

/// Facts for [`seat_invite`].
#[derive(Clone, Debug)]
pub struct Invite {
    pub to: String,
    pub org: String,
    pub seller_name: String,
    pub accept_link: String,
}

/// Facts for [`payment_failed`].
#[derive(Clone, Debug)]
pub struct PaymentFailed {
    pub to: String,
    pub org: String,
    pub product: String,
    /// Last day of access without payment, `YYYY-MM-DD`.
    pub grace_ends: String,
    /// Where to fix the payment (the Stripe customer portal), when there is one.
    pub billing_link: Option<String>,
}

/// Facts for [`license_ended`].
#[derive(Clone, Debug)]
pub struct LicenseEnded {
    pub to: String,
    pub org: String,
    pub product: String,
    /// The day it ended, `YYYY-MM-DD`.
    pub ended: String,
    /// What keeps working, e.g. "versions published before 2026-11-25 keep working"; `None`
    /// when nothing does.
    pub kept: Option<String>,
}

/// Facts for [`seat_revoked`].
#[derive(Clone, Debug)]
pub struct SeatRevoked {
    pub to: String,
    pub org: String,
    pub seller_name: String,
}

/// Facts for [`sign_in`].
#[derive(Clone, Debug)]
pub struct SignIn {
    pub to: String,
    /// What the link signs in to, e.g. "Acme (seller dashboard)" or "Globex on Acme".
    pub who: String,
    pub link: String,
    pub expires_minutes: u32,
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A heading underlined with dashes, as plain-text mail readers expect.
fn heading(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "\n{title}\n{}\n",
        "-".repeat(title.chars().count().max(3))
    );
}

/// After a purchase: the org admin's sign-in link, the org token (shown once), the set-up for each
/// package manager and the license key.
pub fn purchase_welcome(w: &Welcome) -> Message {
    let seats = match w.seats {
        Some(n) => plural(n, "seat", "seats"),
        None => "unlimited seats".to_owned(),
    };
    let manage = match &w.sign_in_link {
        Some(link) => {
            format!("Sign in to manage it (members, seats, tokens for CI, billing):\n\n{link}\n\n")
        }
        None => format!(
            "{} manages its members and seats for you: reply to this message to add or remove \
             a person, or to get a new token.\n\n",
            w.seller_name
        ),
    };
    let mut text = format!(
        "Hello,\n\n\
         thank you for buying {product} from {seller}. Your organization \"{org}\" is ready, with {seats}.\n\n\
         {manage}\
         The organization token below installs {product}. It is shown only in this message; keep it \
         as secret as a password (it can be revoked and replaced):\n\n\
         {token}\n",
        product = w.product,
        seller = w.seller_name,
        org = w.org,
        token = w.token,
    );
    if !w.setup.is_empty() {
        heading(&mut text, "Set up your package manager");
        for (title, snippet) in &w.setup {
            heading(&mut text, title);
            text.push_str(snippet.trim_end());
            text.push('\n');
        }
    }
    if let Some(key) = &w.license_key {
        heading(&mut text, "License key");
        let _ = write!(
            text,
            "{product} can check this key offline:\n\n{key}\n",
            product = w.product,
            key = key.trim_end()
        );
    }
    let _ = write!(text, "\n-- \n{} (sent by Tollgate)\n", w.seller_name);
    Message {
        to: w.to.clone(),
        subject: format!("Your {} access from {}", w.product, w.seller_name),
        text,
    }
}

/// An org admin invited this address to take one of the org's seats.
pub fn seat_invite(i: &Invite) -> Message {
    Message {
        to: i.to.clone(),
        subject: format!("Invitation to {} for {}'s packages", i.org, i.seller_name),
        text: format!(
            "Hello,\n\n\
             you are invited to join \"{org}\" and install {seller}'s packages with a seat of your own.\n\n\
             Accept the invitation:\n\n\
             {link}\n\n\
             Accepting takes one of the organization's seats. If you did not expect this \
             invitation, ignore this message.\n\n\
             -- \n{seller} (sent by Tollgate)\n",
            org = i.org,
            seller = i.seller_name,
            link = i.accept_link,
        ),
    }
}

/// A subscription payment failed; access continues until the grace period ends.
pub fn payment_failed(p: &PaymentFailed) -> Message {
    let fix = match &p.billing_link {
        Some(link) => format!("Update the payment method here:\n\n{link}\n"),
        None => "Please update the payment method with the seller.\n".to_owned(),
    };
    Message {
        to: p.to.clone(),
        subject: format!("Payment failed for {} ({})", p.product, p.org),
        text: format!(
            "Hello,\n\n\
             the latest payment for {product} by \"{org}\" failed.\n\n\
             Installs keep working until {grace} (grace period). After that day, {product} can no \
             longer be installed or updated with your organization's tokens until a payment \
             succeeds.\n\n\
             {fix}\n\
             -- \nSent by Tollgate\n",
            product = p.product,
            org = p.org,
            grace = p.grace_ends,
        ),
    }
}

/// The subscription ended; says what, if anything, keeps working.
pub fn license_ended(l: &LicenseEnded) -> Message {
    let kept = match &l.kept {
        Some(kept) => format!(
            "New versions can no longer be installed; {}.",
            kept.trim_end_matches('.')
        ),
        None => format!(
            "{} can no longer be installed with your organization's tokens.",
            l.product
        ),
    };
    Message {
        to: l.to.clone(),
        subject: format!("Your {} license for {} has ended", l.product, l.org),
        text: format!(
            "Hello,\n\n\
             the {product} subscription of \"{org}\" ended on {ended}.\n\n\
             {kept}\n\n\
             To continue, buy a new subscription from the seller.\n\n\
             -- \nSent by Tollgate\n",
            product = l.product,
            org = l.org,
            ended = l.ended,
        ),
    }
}

/// An org admin removed this person's seat.
pub fn seat_revoked(s: &SeatRevoked) -> Message {
    Message {
        to: s.to.clone(),
        subject: format!("Your seat in {} was removed", s.org),
        text: format!(
            "Hello,\n\n\
             an admin of \"{org}\" removed your seat for {seller}'s packages. Your tokens for it no \
             longer work.\n\n\
             If you think this is a mistake, ask an admin of \"{org}\".\n\n\
             -- \n{seller} (sent by Tollgate)\n",
            org = s.org,
            seller = s.seller_name,
        ),
    }
}

/// A one-time sign-in link (dashboard magic link).
pub fn sign_in(s: &SignIn) -> Message {
    Message {
        to: s.to.clone(),
        subject: format!("Sign in to {}", s.who),
        text: format!(
            "Hello,\n\n\
             here is your link to sign in to {who}:\n\n\
             {link}\n\n\
             It works once and expires in {minutes}. If you did not ask to sign in, ignore this \
             message: nobody can sign in without the link.\n\n\
             -- \nSent by Tollgate\n",
            who = s.who,
            link = s.link,
            minutes = plural(s.expires_minutes, "minute", "minutes"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_all(m: &Message, facts: &[&str]) {
        let all = format!("{}\n{}\n{}", m.to, m.subject, m.text);
        for fact in facts {
            assert!(all.contains(fact), "{fact:?} missing from:\n{all}");
        }
    }

    /// Every link and token stands alone on its line, so a double-click copies it whole.
    fn alone_on_a_line(m: &Message, value: &str) {
        assert!(
            m.text.lines().any(|l| l == value),
            "{value:?} is not on a line of its own:\n{}",
            m.text
        );
    }

    fn welcome() -> Welcome {
        Welcome {
            to: "buyer@globex.example".into(),
            seller_name: "Acme".into(),
            product: "Acme Pro".into(),
            org: "Globex".into(),
            seats: Some(5),
            sign_in_link: Some("https://pkg.acme.example/acme/sign-in/abc123".into()),
            token: "tg_org_SECRETTOKEN".into(),
            setup: vec![
                (
                    "npm".into(),
                    "Add to .npmrc:\n//pkg.acme.example/acme/npm/:_authToken=tg_org_SECRETTOKEN\n"
                        .into(),
                ),
                (
                    "Cargo".into(),
                    "[registries.acme]\nindex = \"sparse+https://pkg.acme.example/acme/cargo/\"\n\nexport CARGO_REGISTRIES_ACME_TOKEN=tg_org_SECRETTOKEN".into(),
                ),
                (
                    "Hex (mix, rebar3)".into(),
                    "mix hex.repo add acme https://pkg.acme.example/acme/hex --auth-key tg_org_SECRETTOKEN".into(),
                ),
                (
                    "Bundler".into(),
                    "bundle config set --global pkg.acme.example tg_org_SECRETTOKEN".into(),
                ),
            ],
            license_key: Some("tollgate-license-v1.eyJzZWxsZXIiOiJhY21lIn0.c2ln".into()),
        }
    }

    #[test]
    fn welcome_holds_link_token_setup_and_key() {
        let w = welcome();
        let m = purchase_welcome(&w);
        assert_eq!(m.to, "buyer@globex.example");
        assert_eq!(m.subject, "Your Acme Pro access from Acme");
        has_all(
            &m,
            &[
                "Acme Pro",
                "Acme",
                "\"Globex\"",
                "5 seats",
                "//pkg.acme.example/acme/npm/:_authToken=tg_org_SECRETTOKEN",
                "[registries.acme]\nindex = \"sparse+https://pkg.acme.example/acme/cargo/\"\n\nexport CARGO_REGISTRIES_ACME_TOKEN=",
                "mix hex.repo add acme",
                "bundle config set --global",
                "\nCargo\n-----\n",
                "\nHex (mix, rebar3)\n-----------------\n",
            ],
        );
        alone_on_a_line(&m, w.sign_in_link.as_deref().unwrap_or_default());
        alone_on_a_line(&m, &w.token);
        alone_on_a_line(&m, "tollgate-license-v1.eyJzZWxsZXIiOiJhY21lIn0.c2ln");
        let npm = m.text.find("\nnpm\n").expect("npm section");
        let bundler = m.text.find("\nBundler\n").expect("Bundler section");
        assert!(npm < bundler, "sections keep the caller's order");
    }

    #[test]
    fn welcome_without_seats_setup_or_key() {
        let m = purchase_welcome(&Welcome {
            seats: None,
            setup: Vec::new(),
            license_key: None,
            ..welcome()
        });
        has_all(&m, &["unlimited seats", "tg_org_SECRETTOKEN"]);
        assert!(!m.text.contains("License key") && !m.text.contains("Set up"));
        let one = purchase_welcome(&Welcome {
            seats: Some(1),
            ..welcome()
        });
        has_all(&one, &["with 1 seat."]);
    }

    #[test]
    fn invite_holds_org_seller_and_link() {
        let m = seat_invite(&Invite {
            to: "dev@globex.example".into(),
            org: "Globex".into(),
            seller_name: "Acme".into(),
            accept_link: "https://pkg.acme.example/acme/invite/xyz".into(),
        });
        has_all(&m, &["dev@globex.example", "Globex", "Acme's packages"]);
        alone_on_a_line(&m, "https://pkg.acme.example/acme/invite/xyz");
    }

    #[test]
    fn payment_failed_holds_grace_end_and_billing_link() {
        let p = PaymentFailed {
            to: "admin@globex.example".into(),
            org: "Globex".into(),
            product: "Acme Pro".into(),
            grace_ends: "2026-12-02".into(),
            billing_link: Some("https://billing.stripe.com/p/session/test_123".into()),
        };
        let m = payment_failed(&p);
        has_all(
            &m,
            &[
                "admin@globex.example",
                "Globex",
                "Acme Pro",
                "until 2026-12-02",
            ],
        );
        alone_on_a_line(&m, "https://billing.stripe.com/p/session/test_123");
        let m = payment_failed(&PaymentFailed {
            billing_link: None,
            ..p
        });
        has_all(&m, &["2026-12-02", "with the seller"]);
    }

    #[test]
    fn license_ended_says_what_is_kept() {
        let l = LicenseEnded {
            to: "admin@globex.example".into(),
            org: "Globex".into(),
            product: "Acme Pro".into(),
            ended: "2026-11-25".into(),
            kept: Some("versions published before 2026-11-25 keep working".into()),
        };
        let m = license_ended(&l);
        has_all(
            &m,
            &[
                "Globex",
                "Acme Pro",
                "ended on 2026-11-25",
                "versions published before 2026-11-25 keep working.",
            ],
        );
        let m = license_ended(&LicenseEnded { kept: None, ..l });
        has_all(&m, &["Acme Pro can no longer be installed"]);
        assert!(!m.text.contains("keep working"));
    }

    #[test]
    fn seat_revoked_holds_org_and_seller() {
        let m = seat_revoked(&SeatRevoked {
            to: "dev@globex.example".into(),
            org: "Globex".into(),
            seller_name: "Acme".into(),
        });
        has_all(
            &m,
            &[
                "dev@globex.example",
                "Globex",
                "Acme's packages",
                "no longer work",
            ],
        );
    }

    #[test]
    fn sign_in_holds_link_and_expiry() {
        let s = SignIn {
            to: "owner@acme.example".into(),
            who: "Acme (seller dashboard)".into(),
            link: "https://pkg.acme.example/sign-in/one-time".into(),
            expires_minutes: 15,
        };
        let m = sign_in(&s);
        has_all(
            &m,
            &[
                "owner@acme.example",
                "Acme (seller dashboard)",
                "15 minutes",
            ],
        );
        alone_on_a_line(&m, "https://pkg.acme.example/sign-in/one-time");
        let m = sign_in(&SignIn {
            expires_minutes: 1,
            ..s
        });
        has_all(&m, &["expires in 1 minute."]);
    }
}
