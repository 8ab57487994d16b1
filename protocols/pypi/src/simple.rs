//! The simple repository API's bodies: a project page (PEP 503 HTML or PEP 691 JSON, with
//! hashes, `requires-python`, yanks (PEP 592) and core metadata (PEP 658/714)) and the project
//! list. Pure: the handlers decide what is listed.

use serde_json::{Value, json};

/// API version 1.1 (PEP 700: `versions`, `size`, `upload-time`).
pub const API_VERSION: &str = "1.1";

pub const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
pub const HTML_TYPE: &str = "text/html; charset=utf-8";

/// The two forms of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Html = 0,
    Json = 1,
}

/// One listed file.
pub struct FileEntry<'a> {
    pub filename: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    /// RFC 3339 with microseconds, UTC.
    pub upload_time: String,
    pub requires_python: Option<&'a str>,
    pub core_metadata_sha256: Option<&'a str>,
    /// `Some("")` yanked without a reason.
    pub yanked: Option<&'a str>,
}

/// The form the client asked for: JSON when a `+json` type has the highest quality, else HTML
/// (also for no `Accept` at all, as older clients send).
pub fn negotiate(accept: Option<&str>) -> Form {
    let Some(accept) = accept else {
        return Form::Html;
    };
    let mut best = (0.0f32, Form::Html);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let form = match media.as_str() {
            "application/vnd.pypi.simple.v1+json" | "application/vnd.pypi.simple.latest+json" => {
                Form::Json
            }
            "application/vnd.pypi.simple.v1+html"
            | "application/vnd.pypi.simple.latest+html"
            | "text/html"
            | "*/*" => Form::Html,
            _ => continue,
        };
        if q > best.0 || (q == best.0 && q > 0.0 && form == Form::Json) {
            best = (q, form);
        }
    }
    best.1
}

/// `&`, `<`, `>` and quotes escaped, for text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a file is, relative to its project page (`…/simple/NAME/`).
fn file_url(filename: &str) -> String {
    format!("../../files/{filename}")
}

/// A project page in `form`. `versions` lists every version that has a listed file.
pub fn project_page(form: Form, name: &str, versions: &[String], files: &[FileEntry]) -> Vec<u8> {
    match form {
        Form::Html => project_html(name, files).into_bytes(),
        Form::Json => project_json(name, versions, files).to_string().into_bytes(),
    }
}

fn project_html(name: &str, files: &[FileEntry]) -> String {
    let name = escape(name);
    let mut out = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n<title>Links for {name}</title>\n</head>\n<body>\n<h1>Links for {name}</h1>\n"
    );
    for f in files {
        out.push_str(&format!(
            "<a href=\"{}#sha256={}\"",
            escape(&file_url(f.filename)),
            f.sha256
        ));
        if let Some(rp) = f.requires_python {
            out.push_str(&format!(" data-requires-python=\"{}\"", escape(rp)));
        }
        if let Some(m) = f.core_metadata_sha256 {
            out.push_str(&format!(
                " data-dist-info-metadata=\"sha256={m}\" data-core-metadata=\"sha256={m}\""
            ));
        }
        match f.yanked {
            Some("") => out.push_str(" data-yanked"),
            Some(reason) => out.push_str(&format!(" data-yanked=\"{}\"", escape(reason))),
            None => {}
        }
        out.push_str(&format!(">{}</a><br>\n", escape(f.filename)));
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn project_json(name: &str, versions: &[String], files: &[FileEntry]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let metadata = match f.core_metadata_sha256 {
                Some(m) => json!({ "sha256": m }),
                None => json!(false),
            };
            let yanked = match f.yanked {
                None => json!(false),
                Some("") => json!(true),
                Some(reason) => json!(reason),
            };
            json!({
                "filename": f.filename,
                "url": file_url(f.filename),
                "hashes": { "sha256": f.sha256 },
                "requires-python": f.requires_python,
                "core-metadata": metadata,
                "dist-info-metadata": metadata,
                "size": f.size,
                "upload-time": f.upload_time,
                "yanked": yanked,
            })
        })
        .collect();
    json!({
        "meta": { "api-version": API_VERSION },
        "name": name,
        "versions": versions,
        "files": files,
    })
}

/// The project list (`/simple/`): the names the caller may see.
pub fn project_list(form: Form, names: &[&str]) -> Vec<u8> {
    match form {
        Form::Html => {
            let mut out = format!(
                "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n<title>Simple index</title>\n</head>\n<body>\n"
            );
            for n in names {
                let n = escape(n);
                out.push_str(&format!("<a href=\"{n}/\">{n}</a><br>\n"));
            }
            out.push_str("</body>\n</html>\n");
            out.into_bytes()
        }
        Form::Json => {
            let projects: Vec<Value> = names.iter().map(|n| json!({ "name": n })).collect();
            json!({ "meta": { "api-version": API_VERSION }, "projects": projects })
                .to_string()
                .into_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_as_the_clients_ask() {
        let pip = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
        let poetry = "application/vnd.pypi.simple.v1+json, */*;q=0.1";
        assert_eq!(negotiate(Some(pip)), Form::Json);
        assert_eq!(negotiate(Some(poetry)), Form::Json);
        assert_eq!(negotiate(Some("text/html")), Form::Html);
        assert_eq!(negotiate(None), Form::Html);
        assert_eq!(
            negotiate(Some("application/vnd.pypi.simple.v1+json;q=0, text/html")),
            Form::Html
        );
        assert_eq!(negotiate(Some("*/*")), Form::Html);
    }

    fn entry<'a>(yanked: Option<&'a str>) -> FileEntry<'a> {
        FileEntry {
            filename: "acme_pro-1.0.0-py3-none-any.whl",
            sha256: "ab",
            size: 10,
            upload_time: "2026-01-01T00:00:00.000000Z".into(),
            requires_python: Some(">=3.8"),
            core_metadata_sha256: Some("cd"),
            yanked,
        }
    }

    #[test]
    fn html_links_carry_hash_python_metadata_and_yank() {
        let page = String::from_utf8(project_page(
            Form::Html,
            "acme-pro",
            &[],
            &[entry(Some("broken <build>"))],
        ))
        .expect("utf-8");
        assert!(page.contains(
            "<a href=\"../../files/acme_pro-1.0.0-py3-none-any.whl#sha256=ab\" data-requires-python=\"&gt;=3.8\" data-dist-info-metadata=\"sha256=cd\" data-core-metadata=\"sha256=cd\" data-yanked=\"broken &lt;build&gt;\">acme_pro-1.0.0-py3-none-any.whl</a>"
        ), "{page}");
    }

    #[test]
    fn json_has_the_1_1_fields() {
        let page = project_page(
            Form::Json,
            "acme-pro",
            &["1.0.0".into()],
            &[entry(Some(""))],
        );
        let v: Value = serde_json::from_slice(&page).expect("json");
        assert_eq!(v["meta"]["api-version"], "1.1");
        assert_eq!(v["versions"], json!(["1.0.0"]));
        let f = &v["files"][0];
        assert_eq!(f["hashes"]["sha256"], "ab");
        assert_eq!(f["core-metadata"]["sha256"], "cd");
        assert_eq!(f["size"], 10);
        assert_eq!(f["yanked"], true);
    }
}
