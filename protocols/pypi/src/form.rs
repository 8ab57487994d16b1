//! The upload form (`multipart/form-data`, the legacy upload API): its text fields and the one
//! `content` file part, read from a body that is already whole and under the upload limit.

use bytes::Bytes;

/// The most fields a form may have (twine sends about 25; repeated ones such as `classifiers`
/// add one each).
pub const MAX_FIELDS: usize = 2_000;

/// The largest text field (the long description is the largest real one).
pub const MAX_FIELD: u64 = 1 << 20;

/// The parsed form.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    /// The `content` part: its file name and bytes.
    pub content: Option<(String, Bytes)>,
}

impl Form {
    /// The first non-empty value of `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// The boundary of a `multipart/form-data` content type, or `None` for any other type.
pub fn boundary(content_type: Option<&str>) -> Option<String> {
    multer::parse_boundary(content_type?).ok()
}

/// Reads every part of `body`.
pub async fn parse(body: Bytes, boundary: &str) -> Result<Form, String> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .for_field("content", u64::MAX)
            .per_field(MAX_FIELD),
    );
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut form = Form::default();
    let mut count = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(format!("Invalid upload form: {e}")),
        };
        count += 1;
        if count > MAX_FIELDS {
            return Err(format!(
                "Invalid upload form: more than {MAX_FIELDS} fields"
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "content" {
            let filename = field.file_name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("Invalid upload form: {e}"))?;
            if form.content.replace((filename, bytes)).is_some() {
                return Err("Invalid upload form: more than one file in `content`".into());
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| format!("Invalid upload form: field `{name}`: {e}"))?;
            form.fields.push((name, text));
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, Option<&str>, &str)]) -> Bytes {
        let mut out = String::new();
        for (name, file, value) in parts {
            out.push_str("--XyZ\r\n");
            match file {
                Some(f) => out.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\r\n"
                )),
                None => out.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                )),
            }
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str("--XyZ--\r\n");
        Bytes::from(out)
    }

    #[tokio::test]
    async fn reads_fields_and_the_file() {
        let b = body(&[
            (":action", None, "file_upload"),
            ("classifiers", None, "A"),
            ("classifiers", None, "B"),
            ("content", Some("a-1.0.tar.gz"), "BYTES"),
        ]);
        let form = parse(b, "XyZ").await.expect("form");
        assert_eq!(form.field(":action"), Some("file_upload"));
        assert_eq!(form.fields.len(), 3);
        let (name, bytes) = form.content.expect("file");
        assert_eq!((name.as_str(), &bytes[..]), ("a-1.0.tar.gz", &b"BYTES"[..]));
        assert_eq!(
            boundary(Some("multipart/form-data; boundary=XyZ")).as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary(Some("application/json")), None);
    }

    #[tokio::test]
    async fn refuses_two_files_and_garbage() {
        let b = body(&[("content", Some("a"), "1"), ("content", Some("b"), "2")]);
        assert!(parse(b, "XyZ").await.is_err());
        assert!(
            parse(Bytes::from_static(b"no parts here"), "XyZ")
                .await
                .is_err()
        );
    }
}
