//! Live updates, LiveView-style: pages subscribe over server-sent events and re-render their
//! `data-live` regions when something they show changed. Events come from the change log that
//! already invalidates the caches (so a publish on another replica, or by the CLI, reaches every
//! open page) and from a poll of the download events (one query per server every
//! [`DOWNLOAD_POLL`], whatever the number of open pages).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};
use tollgate_registry::Registry;
use tollgate_registry::change::Change;
use tollgate_registry::ids::{OrgId, SellerId};

/// How often each server looks for new download events.
pub const DOWNLOAD_POLL: Duration = Duration::from_millis(500);

/// What changed, for whom. `seller: None` means "every seller" (a token or seat change, whose
/// seller the log does not name; pages re-render, which is cheap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveEvent {
    pub seller: Option<SellerId>,
    pub org: Option<OrgId>,
    pub topic: Topic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Releases,
    Customers,
    Seats,
    Downloads,
    Everything,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Releases => "releases",
            Self::Customers => "customers",
            Self::Seats => "seats",
            Self::Downloads => "downloads",
            Self::Everything => "everything",
        }
    }
}

/// Fans events out to every open page of this server.
#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
}

impl LiveHub {
    /// Starts following `registry`'s changes and download events (needs a Tokio runtime).
    pub fn start(registry: Registry) -> Self {
        let (tx, _) = broadcast::channel(4096);
        let (changes, mut incoming) = mpsc::unbounded_channel::<Change>();
        registry.on_change(Arc::new(move |c: &Change| {
            let _ = changes.send(*c);
        }));
        let out = tx.clone();
        let db = registry.views();
        tokio::spawn(async move {
            while let Some(change) = incoming.recv().await {
                let event = match change {
                    Change::Package(p) => match db.package_seller(p).await {
                        Ok(Some(seller)) => LiveEvent {
                            seller: Some(seller),
                            org: None,
                            topic: Topic::Releases,
                        },
                        _ => continue,
                    },
                    Change::Org(o) => match db.org_seller(o).await {
                        Ok(Some(seller)) => LiveEvent {
                            seller: Some(seller),
                            org: Some(o),
                            topic: Topic::Customers,
                        },
                        _ => continue,
                    },
                    Change::Tokens => LiveEvent {
                        seller: None,
                        org: None,
                        topic: Topic::Seats,
                    },
                    Change::All => LiveEvent {
                        seller: None,
                        org: None,
                        topic: Topic::Everything,
                    },
                };
                let _ = out.send(event);
            }
        });
        let out = tx.clone();
        let db = registry.views();
        tokio::spawn(async move {
            let mut seen = db.download_watermark().await.unwrap_or(0);
            let mut tick = tokio::time::interval(DOWNLOAD_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                if out.receiver_count() == 0 {
                    seen = db.download_watermark().await.unwrap_or(seen);
                    continue;
                }
                let Ok(newest) = db.download_watermark().await else {
                    continue;
                };
                if newest <= seen {
                    continue;
                }
                if let Ok(pairs) = db.download_activity_since(seen).await {
                    for (seller, org) in pairs {
                        let _ = out.send(LiveEvent {
                            seller: Some(seller),
                            org,
                            topic: Topic::Downloads,
                        });
                    }
                }
                seen = newest;
            }
        });
        Self { tx }
    }

    /// An SSE response of the events `wanted` accepts. Events that arrive together are sent as
    /// one (a page re-renders once for a burst of downloads); a page that fell behind gets
    /// `everything`.
    pub fn stream<F>(
        &self,
        wanted: F,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<F>>
    where
        F: Fn(&LiveEvent) -> bool + Send + 'static,
    {
        let rx = self.tx.subscribe();
        let stream = futures_util::stream::unfold((rx, wanted), |(mut rx, wanted)| async move {
            loop {
                let topic = match rx.recv().await {
                    Ok(e) if wanted(&e) => e.topic,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => Topic::Everything,
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                // Coalesce what is already queued.
                let mut topic = topic;
                while let Ok(e) = rx.try_recv() {
                    if wanted(&e) && e.topic != topic {
                        topic = Topic::Everything;
                    }
                }
                let event = Event::default().event("change").data(topic.as_str());
                return Some((Ok(event), (rx, wanted)));
            }
        });
        Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    }
}
