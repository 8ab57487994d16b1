//! Applying a verified webhook: re-read the subscription from the seller's Stripe, apply its
//! state (entitlement window, seat cap) once per event, and provision an org for a customer seen
//! for the first time.

use tollgate_registry::db::{SubscriptionRecord, SubscriptionState};
use tollgate_registry::domain::{NewToken, Plan, Seller, TokenKind, TokenScope};
use tollgate_registry::ids::OrgId;
use tollgate_registry::time::Timestamp;
use tollgate_registry::{Error, token};

use super::{Billing, BillingError, Connected, text};
use crate::subscription::{self, Status, Subscription};
use crate::webhook::Event;

impl Billing {
    /// Applies a verified event for `seller`, once.
    pub(super) async fn apply(
        &self,
        seller: &Seller,
        stripe: &Connected,
        event: &Event,
    ) -> Result<String, BillingError> {
        let db = &self.registry;
        if db.event_seen(seller.id, &event.id).await? {
            return Ok(format!("{} already applied", event.id));
        }
        let sub_id = match event.kind.as_str() {
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted"
            | "customer.subscription.paused"
            | "customer.subscription.resumed" => text(&event.object, &["id"]),
            "invoice.paid"
            | "invoice.payment_succeeded"
            | "invoice.payment_failed"
            | "checkout.session.completed" => {
                text(&event.object, &["subscription"]).or_else(|| {
                    text(
                        &event.object,
                        &["parent", "subscription_details", "subscription"],
                    )
                })
            }
            _ => None,
        };
        let Some(sub_id) = sub_id else {
            db.record_event(seller.id, (&event.id, &event.kind)).await?;
            return Ok(format!("{} ({}) recorded", event.id, event.kind));
        };
        self.sync(seller, stripe, event, &sub_id).await
    }

    /// Re-reads subscription `sub_id` and applies its state (with `event` recorded in the same
    /// transaction), provisioning an org for a customer seen for the first time.
    async fn sync(
        &self,
        seller: &Seller,
        stripe: &Connected,
        event: &Event,
        sub_id: &str,
    ) -> Result<String, BillingError> {
        let db = &self.registry;
        let raw = stripe.account.subscription(sub_id).await?;
        let sub = Subscription::from_json(&raw).map_err(|e| {
            BillingError::Unavailable(format!("unreadable subscription {sub_id}: {e}"))
        })?;
        let Some(plan) = self.plan_of(seller, &sub).await? else {
            tracing::warn!(seller = %seller.slug, subscription = %sub.id, prices = ?sub.prices,
                "a subscription to a price no plan sells; ignored");
            db.record_event(seller.id, (&event.id, &event.kind)).await?;
            return Ok(format!("{}: no plan sells {:?}", sub.id, sub.prices));
        };
        let existing = db.subscription(seller.id, &sub.id).await?;
        let failed_hint = (event.kind == "invoice.payment_failed").then_some(event.created * 1000);
        let state = state_of(&sub, &plan, existing.as_ref(), failed_hint);
        // A subscription whose first payment never succeeded (incomplete) grants nothing, not
        // even what perpetual fallback keeps: it is stored once it has been live.
        let never_live = state.ends_at.is_some_and(|end| end <= state.starts_at);
        if existing.is_none() && never_live {
            db.record_event(seller.id, (&event.id, &event.kind)).await?;
            return Ok(format!("{}: {} (not live yet)", sub.id, state.status));
        }
        let org = match &existing {
            Some(record) => Some(OrgId(record.org_id)),
            None => db
                .org_by_customer(seller.id, &sub.customer)
                .await?
                .map(|o| o.id),
        };
        let Some(org) = org else {
            // A new customer gets an org (admin seat, token, welcome) once it has paid: a
            // subscription first seen ended or out of grace waits for a live state.
            let now = Timestamp::now();
            let live = state.starts_at <= now && state.ends_at.is_none_or(|end| now < end);
            if !live {
                db.record_event(seller.id, (&event.id, &event.kind)).await?;
                return Ok(format!("{}: {} (no org until live)", sub.id, state.status));
            }
            return self
                .provision(seller, stripe, event, &sub, &plan, &state)
                .await;
        };
        let applied = db
            .apply_subscription(seller.id, Some((&event.id, &event.kind)), org, &state)
            .await?;
        if applied {
            // Read-your-writes: this server's access caches follow at once, not at the next poll.
            self.registry.catch_up().await;
            self.notify_transition(seller, org, &plan, existing.as_ref(), &state)
                .await;
        }
        Ok(format!(
            "{}: {} × {} ({})",
            sub.id, state.quantity, plan.slug, state.status
        ))
    }

    /// The plan a subscription buys: by its prices, else by our Checkout's metadata.
    async fn plan_of(
        &self,
        seller: &Seller,
        sub: &Subscription,
    ) -> Result<Option<Plan>, BillingError> {
        let db = &self.registry;
        for price in &sub.prices {
            if let Some(plan) = db.plan_by_price(seller.id, price).await? {
                return Ok(Some(plan));
            }
        }
        match sub.metadata.get("tollgate_plan") {
            Some(slug) => match db.plan(seller.id, slug).await {
                Ok(plan) => Ok(Some(plan)),
                Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            },
            None => Ok(None),
        }
    }

    /// A customer's first subscription: a new org (named after the customer), its admin seat
    /// for the customer's email, an org token, then the welcome mail with the token.
    async fn provision(
        &self,
        seller: &Seller,
        stripe: &Connected,
        event: &Event,
        sub: &Subscription,
        plan: &Plan,
        state: &SubscriptionState,
    ) -> Result<String, BillingError> {
        let from_session = text(&event.object, &["customer_details", "email"])
            .or_else(|| text(&event.object, &["customer_email"]));
        let (email, name) = match from_session {
            // Checkout sessions carry `customer_details`, invoices `customer_name`.
            Some(email) => (
                Some(email),
                text(&event.object, &["customer_details", "name"])
                    .or_else(|| text(&event.object, &["customer_name"])),
            ),
            None => stripe.account.customer(&sub.customer).await?,
        };
        let email = email.ok_or_else(|| {
            BillingError::BadRequest(format!(
                "customer {} has no email address: cannot make its org admin",
                sub.customer
            ))
        })?;
        let slug = org_slug(name.as_deref(), &email);
        let org_name = name.unwrap_or_else(|| slug.clone());
        let generated = token::generate();
        let new_token = NewToken {
            id: generated.id.clone(),
            secret_hash: generated.secret_hash.clone(),
            kind: TokenKind::Org,
            seller_id: seller.id,
            org_id: None,
            seat_id: None,
            packages: Vec::new(),
            label: None,
            scope: TokenScope::Read,
        };
        let done = self
            .registry
            .complete_checkout(
                seller.id,
                (&event.id, &event.kind),
                (&slug, &org_name),
                &email,
                &new_token,
                state,
            )
            .await?;
        let Some(done) = done else {
            return Ok(format!("{} already applied", event.id));
        };
        self.registry.catch_up().await;
        if !done.new_org {
            // Another event about the same purchase provisioned the org meanwhile (Stripe sends
            // them in parallel): it issued the token and sent the welcome.
            return Ok(format!(
                "{}: org {} already provisioned",
                sub.id, done.org.slug
            ));
        }
        tracing::info!(seller = %seller.slug, org = %done.org.slug, subscription = %sub.id,
            "provisioned an org for a new customer");
        self.welcome(seller, &done.org, plan, &email, &generated.secret, state)
            .await;
        Ok(format!("{}: org {} created", sub.id, done.org.slug))
    }
}

/// The state to store for `sub` under `plan`: the entitlement window of our policy, with the
/// first failed payment carried over while payments keep failing.
pub fn state_of(
    sub: &Subscription,
    plan: &Plan,
    existing: Option<&SubscriptionRecord>,
    failed_hint_ms: Option<i64>,
) -> SubscriptionState {
    let now = Timestamp::now().0;
    let failing = matches!(sub.status, Status::PastDue | Status::Unpaid);
    let first_failed_at = failing.then(|| {
        existing
            .and_then(|e| e.first_failed_at)
            .or(failed_hint_ms)
            .unwrap_or(now)
    });
    let window = subscription::window(
        sub,
        &plan.product_name,
        plan.grace_days,
        first_failed_at,
        now,
    );
    SubscriptionState {
        stripe_id: sub.id.clone(),
        customer_id: sub.customer.clone(),
        plan: plan.id,
        status: sub.status.as_str().to_owned(),
        quantity: i64::from(sub.quantity),
        first_failed_at: first_failed_at.map(Timestamp),
        starts_at: Timestamp(window.starts_at),
        ends_at: window.ends_at.map(Timestamp),
        warning: window.warning,
        unit_amount: sub.price.unit_amount,
        currency: sub.price.currency.clone(),
        price_interval: sub.price.interval.map(|i| i.as_str().to_owned()),
    }
}

/// An org slug from the customer's name, else its email's domain (`ops@globex.example` →
/// `globex`), else `org`.
fn org_slug(name: Option<&str>, email: &str) -> String {
    let from_domain = email
        .rsplit_once('@')
        .and_then(|(_, domain)| domain.split('.').next())
        .unwrap_or_default();
    let source = name.filter(|n| !n.trim().is_empty()).unwrap_or(from_domain);
    let mut slug = String::new();
    for c in source.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug
        .trim_end_matches('-')
        .chars()
        .take(40)
        .collect::<String>();
    if slug.is_empty() { "org".into() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_slugs_come_from_names_or_domains() {
        assert_eq!(org_slug(Some("Globex Corp."), "a@b.example"), "globex-corp");
        assert_eq!(org_slug(None, "ops@globex.example"), "globex");
        assert_eq!(org_slug(Some("  "), "ops@Initech.io"), "initech");
        assert_eq!(org_slug(None, "nobody"), "org");
    }
}
