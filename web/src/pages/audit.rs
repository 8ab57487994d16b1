//! The download audit, shared by the seller's dashboard (`/{seller}/dashboard/downloads`) and an
//! org admin's page (`/{seller}/org/{org}/downloads`): the filter form's parsing, the table's
//! lines and paging, and the CSV export, which streams every matching event page by page so that
//! memory stays flat however many there are.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use tollgate_registry::ids::SellerId;
use tollgate_registry::time::Timestamp;
use tollgate_registry::views::{AuditFilter, AuditRow, Views};

use crate::error::{WebError, WebResult};

/// Events on one page of the table.
pub const PAGE: usize = 100;
/// Events read per query by the CSV export (the most one audit query returns).
const CSV_CHUNK: i64 = 1000;
const DAY_MS: i64 = 86_400_000;
/// The CSV header row.
pub const CSV_HEADER: &str = "time,ecosystem,package,version,org,seat,token,client_ip\r\n";

/// The filter form as it comes in the query string; empty fields mean "any".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    /// An org's slug (the seller's page only; ignored on an org's page).
    pub org: Option<String>,
    pub package: Option<String>,
    pub version: Option<String>,
    /// `YYYY-MM-DD`, UTC, from the start of that day.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, UTC, up to the end of that day.
    pub to: Option<String>,
    /// Paging: the last event id of the previous page.
    pub before: Option<String>,
}

/// A trimmed, non-empty form value.
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The start of the UTC day `YYYY-MM-DD`, in milliseconds.
fn day_start(field: &str, value: &str) -> WebResult<i64> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        WebError::BadRequest(format!(
            "the {field} date `{value}` is not a date; write it as YYYY-MM-DD"
        ))
    })?;
    Ok(date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis())
        .unwrap_or_default())
}

impl AuditQuery {
    /// The org slug asked for, if any.
    pub fn org_slug(&self) -> Option<String> {
        given(&self.org)
    }

    /// The filter without its org (the caller resolves or forces that): package, version, the
    /// dates (`to` takes in its whole day), and the page.
    pub fn filter(&self) -> WebResult<AuditFilter> {
        let from = given(&self.from)
            .map(|v| day_start("from", &v))
            .transpose()?;
        let to = given(&self.to)
            .map(|v| day_start("to", &v).map(|ms| ms + DAY_MS))
            .transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(WebError::BadRequest(
                "the from date is after the to date; swap them or clear one".into(),
            ));
        }
        let before = given(&self.before)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    WebError::BadRequest(
                        "this page link is damaged; start again from the first page".into(),
                    )
                })
            })
            .transpose()?;
        Ok(AuditFilter {
            org: None,
            package: given(&self.package),
            version: given(&self.version),
            from: from.map(Timestamp),
            to: to.map(Timestamp),
            before,
            limit: 0,
        })
    }

    /// The query string of these filters (without paging), with `before` when given: for the
    /// "Older" and CSV links.
    fn query_string(&self, org: bool, before: Option<i64>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("org", if org { given(&self.org) } else { None }),
            ("package", given(&self.package)),
            ("version", given(&self.version)),
            ("from", given(&self.from)),
            ("to", given(&self.to)),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                q.append_pair(name, &v);
            }
        }
        if let Some(b) = before {
            q.append_pair("before", &b.to_string());
        }
        let s = q.finish();
        if s.is_empty() { s } else { format!("?{s}") }
    }
}

/// One event in the table, formatted.
pub struct AuditLine {
    pub time: String,
    pub ecosystem: String,
    pub package: String,
    pub version: String,
    /// The org's slug, or `—` for the seller's own tokens.
    pub org: String,
    pub seat: String,
    pub token: String,
    pub client_ip: String,
}

/// What the shared `audit.html` partial draws: the filter form, the table, the links.
pub struct AuditView {
    /// Where the form and links go (`/{seller}/dashboard/downloads` or the org's page).
    pub base: String,
    /// Show the org filter and column (the seller's page).
    pub show_org: bool,
    /// The seller's org slugs, offered in the org field.
    pub orgs: Vec<String>,
    /// The form's values as given, to draw them again.
    pub org: String,
    pub package: String,
    pub version: String,
    pub from: String,
    pub to: String,
    /// Whether this is a later page (then a link back to the newest).
    pub paged: bool,
    pub lines: Vec<AuditLine>,
    /// The next (older) page's URL, when there are more events.
    pub older: Option<String>,
    pub first: String,
    pub csv: String,
}

/// Reads one page of the table (one query: a page and one more event, to know whether there are
/// older ones) and formats it.
pub async fn view(
    db: &Views,
    seller: SellerId,
    mut filter: AuditFilter,
    query: &AuditQuery,
    base: String,
    show_org: bool,
    orgs: Vec<String>,
) -> WebResult<AuditView> {
    filter.limit = PAGE as i64 + 1;
    let mut rows = db.download_audit(seller, &filter).await?;
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    let older = if more {
        rows.last()
            .map(|r| format!("{base}{}", query.query_string(show_org, Some(r.id))))
    } else {
        None
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(AuditView {
        first: format!("{base}{}", query.query_string(show_org, None)),
        csv: format!("{base}.csv{}", query.query_string(show_org, None)),
        base,
        show_org,
        orgs,
        org: text(&query.org),
        package: text(&query.package),
        version: text(&query.version),
        from: text(&query.from),
        to: text(&query.to),
        paged: filter.before.is_some(),
        lines: rows.into_iter().map(line).collect(),
        older,
    })
}

fn line(r: AuditRow) -> AuditLine {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    AuditLine {
        time: r
            .at
            .to_datetime()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        ecosystem: r.ecosystem,
        package: r.package,
        version: r.version,
        org: dash(r.org),
        seat: dash(r.seat),
        token: r.token_id,
        client_ip: dash(r.client_ip),
    }
}

/// One CSV field, quoted per RFC 4180 when it holds a comma, a quote or a line break (quotes
/// doubled inside).
///
/// A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR first: seat
/// addresses are chosen by customers) gets a leading `'`, so it opens as text.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One event as a CSV record, CRLF-terminated; absent values are empty fields.
fn csv_record(r: &AuditRow, out: &mut String) {
    let opt = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    let fields = [
        r.at.rfc3339(),
        csv_field(&r.ecosystem),
        csv_field(&r.package),
        csv_field(&r.version),
        opt(&r.org),
        opt(&r.seat),
        csv_field(&r.token_id),
        opt(&r.client_ip),
    ];
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// Where the CSV export is in its walk through the events.
enum Walk {
    Header,
    Next(Option<i64>),
    Done,
}

/// Streams every event matching `filter` as CSV (`filter.before` and `limit` are taken over):
/// the header, then pages of [`CSV_CHUNK`] events walked newest first by id, each written as
/// soon as it is read. A database error ends the body early (the download is cut short, and
/// the error logged), since the status line has already gone out.
pub fn csv(db: Views, seller: SellerId, mut filter: AuditFilter, filename: &str) -> Response {
    filter.limit = CSV_CHUNK;
    let start = filter.before;
    let chunks = futures_util::stream::unfold(Walk::Header, move |walk| {
        let db = db.clone();
        let mut filter = filter.clone();
        async move {
            let before = match walk {
                Walk::Header => {
                    return Some((
                        Ok(Bytes::from_static(CSV_HEADER.as_bytes())),
                        Walk::Next(start),
                    ));
                }
                Walk::Next(before) => before,
                Walk::Done => return None,
            };
            filter.before = before;
            match db.download_audit(seller, &filter).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let mut out = String::with_capacity(rows.len() * 160);
                    for r in &rows {
                        csv_record(r, &mut out);
                    }
                    let next = if (rows.len() as i64) < CSV_CHUNK {
                        Walk::Done
                    } else {
                        Walk::Next(rows.last().map(|r| r.id))
                    };
                    Some((Ok(Bytes::from(out)), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "download audit CSV cut short");
                    Some((Err(std::io::Error::other(e.to_string())), Walk::Done))
                }
            }
        }
    });
    let disposition = format!("attachment; filename=\"{}\"", safe_filename(filename));
    let mut res = Body::from_stream(chunks).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// A file name safe in a header: letters, digits, `-`, `_` and `.`; anything else becomes `_`.
fn safe_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("acme-widget"), "acme-widget");
        assert_eq!(csv_field("@acme/widget"), "'@acme/widget");
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("-x,y"), "\"'-x,y\"");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
    }

    #[test]
    fn records_have_every_column() {
        let row = AuditRow {
            id: 7,
            at: Timestamp(86_400_000),
            ecosystem: "npm".into(),
            package: "@acme/widget".into(),
            version: "1.0.0".into(),
            org: None,
            seat: Some("a,b@x.test".into()),
            token_id: "tok".into(),
            client_ip: Some("127.0.0.1".into()),
        };
        let mut out = String::new();
        csv_record(&row, &mut out);
        assert_eq!(
            out,
            "1970-01-02T00:00:00.000Z,npm,'@acme/widget,1.0.0,,\"a,b@x.test\",tok,127.0.0.1\r\n"
        );
        assert_eq!(CSV_HEADER.trim_end().split(',').count(), 8);
    }

    #[test]
    fn dates_take_whole_utc_days() {
        let q = AuditQuery {
            from: Some("1970-01-02".into()),
            to: Some(" 1970-01-02 ".into()),
            package: Some("  ".into()),
            ..AuditQuery::default()
        };
        let f = q.filter().expect("valid");
        assert_eq!(f.from, Some(Timestamp(DAY_MS)));
        assert_eq!(f.to, Some(Timestamp(2 * DAY_MS)));
        assert_eq!(f.package, None);
        let bad = AuditQuery {
            from: Some("02/01/1970".into()),
            ..AuditQuery::default()
        };
        assert!(matches!(bad.filter(), Err(WebError::BadRequest(_))));
        let swapped = AuditQuery {
            from: Some("1970-01-03".into()),
            to: Some("1970-01-02".into()),
            ..AuditQuery::default()
        };
        assert!(matches!(swapped.filter(), Err(WebError::BadRequest(_))));
    }

    #[test]
    fn links_keep_the_filters() {
        let q = AuditQuery {
            org: Some("globex".into()),
            package: Some("@acme/widget".into()),
            ..AuditQuery::default()
        };
        assert_eq!(
            q.query_string(true, Some(42)),
            "?org=globex&package=%40acme%2Fwidget&before=42"
        );
        assert_eq!(q.query_string(false, None), "?package=%40acme%2Fwidget");
        assert_eq!(
            safe_filename("downloads-acme \"x\".csv"),
            "downloads-acme__x_.csv"
        );
    }
}
