//! What billing tells people: the purchase welcome (org token, set-up, license key, sign-in
//! link) and the mails to an org's admins when payments start failing or the license ends.

use tollgate_registry::db::{SubscriptionRecord, SubscriptionState};
use tollgate_registry::domain::{Org, Plan, SeatMode, Seller, VersionRule};
use tollgate_registry::ids::OrgId;

use super::Billing;
use crate::mail;

impl Billing {
    /// The purchase welcome: the org token (only here), set-up for each ecosystem the product
    /// has, a license key. A failure to send is logged: the org admin can make a new token.
    pub(super) async fn welcome(
        &self,
        seller: &Seller,
        org: &Org,
        plan: &Plan,
        to: &str,
        token: &str,
        state: &SubscriptionState,
    ) {
        let product = match self.registry.product(seller.id, &plan.product_slug).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "welcome mail: cannot read the product");
                return;
            }
        };
        let license_key =
            crate::license::issue(&self.registry, &self.secrets, seller, org, &product)
                .await
                .map_err(
                    |e| tracing::error!(error = %e, "welcome mail: cannot issue a license key"),
                )
                .ok();
        let setup = self.setup(seller, &product.packages, token).await;
        // The admin's way into the org's pages (seats, tokens, billing); a mail without it is
        // still worth sending.
        let sign_in_link = tollgate_registry::sign_in::issue(
            &self.registry,
            &self.config.public_url,
            tollgate_registry::db::LinkPurpose::Member,
            seller,
            Some(org),
            to,
            tollgate_registry::sign_in::PRINTED_SIGN_IN,
        )
        .await
        .map_err(|e| tracing::error!(error = %e, "welcome mail: cannot make a sign-in link"))
        .ok();
        let message = mail::purchase_welcome(&mail::Welcome {
            to: to.to_owned(),
            seller_name: seller.name.clone(),
            product: plan.product_name.clone(),
            org: org.name.clone(),
            seats: (plan.seats == SeatMode::PerQuantity)
                .then(|| u32::try_from(state.quantity).unwrap_or(u32::MAX)),
            sign_in_link,
            token: token.to_owned(),
            setup,
            license_key,
        });
        if let Err(e) = self.mailer.send(&message).await {
            tracing::error!(error = %e, org = %org.slug, "could not send the welcome mail");
        }
    }

    /// The client set-up of `packages` with `token`; with placeholders for the seller's key
    /// fingerprints when they cannot be read (the mail is still worth sending).
    async fn setup(
        &self,
        seller: &Seller,
        packages: &[tollgate_registry::domain::PackageRef],
        token: &str,
    ) -> Vec<(String, String)> {
        let place = tollgate_registry::ecosystem::Place {
            public_url: &self.config.public_url,
            seller: &seller.slug,
        };
        let ecosystems = self.config.ecosystems;
        ecosystems
            .setup(&self.registry, place, seller.id, packages, token)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "welcome mail: cannot read the seller's keys");
                ecosystems.setup_with(place, packages, token, |_| None)
            })
            .into_iter()
            .map(|s| (s.title, s.text))
            .collect()
    }

    /// Mails the org's admins when the subscription starts failing or ends.
    pub(super) async fn notify_transition(
        &self,
        seller: &Seller,
        org: OrgId,
        plan: &Plan,
        before: Option<&SubscriptionRecord>,
        after: &SubscriptionState,
    ) {
        let was = before.map(|b| b.status.as_str());
        let failing = |s: &str| s == "past_due" || s == "unpaid";
        let message_for = |to: String, org_name: &str| -> Option<mail::Message> {
            if failing(&after.status) && !was.is_some_and(failing) {
                let grace_ends = after.ends_at.map_or_else(String::new, |t| t.date());
                return Some(mail::payment_failed(&mail::PaymentFailed {
                    to,
                    org: org_name.to_owned(),
                    product: plan.product_name.clone(),
                    grace_ends,
                    billing_link: None,
                }));
            }
            if after.status == "canceled" && was != Some("canceled") {
                let ended = after.ends_at.map_or_else(String::new, |t| t.date());
                return Some(mail::license_ended(&mail::LicenseEnded {
                    to,
                    org: org_name.to_owned(),
                    product: plan.product_name.clone(),
                    kept: (plan.rule == VersionRule::PerpetualFallback)
                        .then(|| format!("versions published before {ended} keep working")),
                    ended,
                }));
            }
            None
        };
        let db = &self.registry;
        // The org pays as the subscription's customer: one row, not the seller's whole list.
        let (Ok(Some(org_row)), Ok(seats)) = (
            db.org_by_customer(seller.id, &after.customer_id).await,
            db.seats(org).await,
        ) else {
            return;
        };
        for admin in seats.iter().filter(|s| s.active && s.role == "admin") {
            if let Some(message) = message_for(admin.email.clone(), &org_row.name)
                && let Err(e) = self.mailer.send(&message).await
            {
                tracing::error!(error = %e, "could not send a billing mail");
            }
        }
    }
}
