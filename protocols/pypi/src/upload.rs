//! The legacy upload API (`POST /` or `/upload/`, `:action=file_upload`), as twine, uv publish
//! and poetry publish use it with user `__token__` and a publish token. Everything is checked
//! before the file is stored: the form against the file name, each digest sent against the
//! bytes, and the file's own core metadata against both. A file name is written once; the same
//! bytes again succeed (a retried upload), other bytes are refused.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blake2::Blake2b;
use blake2::digest::consts::U32;
use md5::Md5;
use sha2::{Digest, Sha256};
use tollgate_registry::domain::{Ecosystem, NewRelease, PackageRef, PackageState};
use tollgate_registry::upload::Upload;

use crate::PypiState;
use crate::error::PypiError;
use crate::filename::{self, DistFile, Kind};
use crate::form::{self, Form};
use crate::read::{SellerPath, seller_and_caller};
use crate::stored::StoredFile;
use crate::{archive, metadata, name, version};

pub async fn upload(
    State(state): State<PypiState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PypiError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers, true).await?;
    // The token's kind and the announced size first, then the form's type: all from the head.
    let upload = Upload::permit(caller, None, &headers, state.config.max_publish_bytes)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let boundary = form::boundary(content_type).ok_or_else(|| {
        PypiError::bad_request(
            "Uploads must be multipart/form-data (use twine upload or uv publish)",
        )
    })?;
    let (caller, body) = upload.read(body).await?;
    let form = form::parse(body, &boundary)
        .await
        .map_err(PypiError::bad_request)?;
    let (dist, file, bytes) = checked_form(&form)?;
    let pkg = PackageRef {
        ecosystem: Ecosystem::Pypi,
        name: dist.project.clone(),
    };
    state.registry.check_publish(&caller, &pkg)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let existing = state
        .registry
        .package_state(seller.id, Ecosystem::Pypi, &dist.project)
        .await?;
    if let Some(existing) = &existing
        && let Some(done) = already_there(&state, existing, &dist, &file, &sha256).await?
    {
        return Ok(done);
    }
    let archive_bytes = bytes.clone();
    let kind = dist.kind;
    let core = tokio::task::spawn_blocking(move || archive::core_metadata(kind, &archive_bytes))
        .await
        .map_err(|e| PypiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(PypiError::bad_request)?;
    let what = match kind {
        Kind::Wheel => "METADATA",
        Kind::Sdist => "PKG-INFO",
    };
    let meta = metadata::parse(&core, what).map_err(PypiError::bad_request)?;
    if name::normalize(&meta.name) != dist.project {
        return Err(PypiError::bad_request(format!(
            "The name in the file's {what} ('{}') is not the project of its file name ('{}')",
            meta.name, dist.project
        )));
    }
    if !version::same(&meta.version, &dist.version) {
        return Err(PypiError::bad_request(format!(
            "Version in filename should be '{}' not '{}'.",
            meta.version, dist.version
        )));
    }
    let normalized = version::normalized(&dist.version).unwrap_or_else(|| dist.version.clone());
    let core_text = (kind == Kind::Wheel)
        .then(|| String::from_utf8(core.clone()).ok())
        .flatten();
    let record = StoredFile {
        filename: file.clone(),
        version: normalized.clone(),
        filetype: kind.filetype().to_owned(),
        requires_python: meta.requires_python.clone(),
        summary: meta.summary.clone(),
        requires_dist: meta.requires_dist.clone(),
        core_metadata_sha256: core_text
            .as_ref()
            .map(|t| hex::encode(Sha256::digest(t.as_bytes()))),
        core_metadata: core_text,
    };
    let metadata = serde_json::to_value(&record)
        .map_err(|e| PypiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let release = NewRelease {
        seller_id: seller.id,
        ecosystem: Ecosystem::Pypi,
        package: dist.project.clone(),
        version: file.clone(),
        blob_sha256: sha256,
        size: bytes.len() as i64,
        metadata,
        dist_tags: Vec::new(),
    };
    match state.registry.publish(&caller, release, &bytes).await {
        Ok(_) => {}
        Err(tollgate_registry::Error::Conflict(_)) => return Err(file_exists(&file)),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(project = %dist.project, file = %file, "pypi upload");
    Ok((StatusCode::OK, "OK\n").into_response())
}

/// The public index's words; twine, uv and poetry recognise "File already exists".
fn file_exists(file: &str) -> PypiError {
    PypiError::bad_request(format!(
        "File already exists ('{file}'). A file name can be uploaded once; publish a new version (or a new build tag) instead."
    ))
}

/// The file name, the parsed name and the bytes of a form whose fields agree with its file.
fn checked_form(form: &Form) -> Result<(DistFile, String, bytes::Bytes), PypiError> {
    match form.field(":action") {
        Some("file_upload") => {}
        other => {
            return Err(PypiError::bad_request(format!(
                "Unsupported :action '{}': this index accepts file uploads (twine upload, uv publish)",
                other
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>()
            )));
        }
    }
    let Some((file, bytes)) = form.content.clone() else {
        return Err(PypiError::bad_request(
            "Upload payload does not have a file.",
        ));
    };
    let dist = filename::parse(&file).map_err(PypiError::bad_request)?;
    // The project as file names write it (PEP 427, PEP 625); older sdists (`acme-pro-1.0.tar.gz`)
    // with the normalized name. Any other spelling would be a second name for one file.
    let prefix = name::in_filename(&dist.project);
    let legacy_sdist = dist.kind == Kind::Sdist && file.starts_with(&format!("{}-", dist.project));
    if !file.starts_with(&format!("{prefix}-")) && !legacy_sdist {
        return Err(PypiError::bad_request(format!(
            "Start filename for '{}' with '{prefix}'.",
            dist.project
        )));
    }
    let Some(form_name) = form.field("name") else {
        return Err(PypiError::bad_request("The form has no `name` field."));
    };
    if !name::is_valid(form_name) || name::normalize(form_name) != dist.project {
        return Err(PypiError::bad_request(format!(
            "Start filename for '{}' with '{}'.",
            form_name.chars().take(80).collect::<String>(),
            name::in_filename(form_name)
        )));
    }
    match form.field("version") {
        Some(v) if version::same(v, &dist.version) => {}
        Some(v) => {
            return Err(PypiError::bad_request(format!(
                "Version in filename should be '{}' not '{}'.",
                v.chars().take(64).collect::<String>(),
                dist.version
            )));
        }
        None => return Err(PypiError::bad_request("The form has no `version` field.")),
    }
    if let Some(t) = form.field("filetype")
        && t != dist.kind.filetype()
    {
        return Err(PypiError::bad_request(format!(
            "filetype '{}' does not match the file '{file}'",
            t.chars().take(40).collect::<String>()
        )));
    }
    check_digests(form, &bytes)?;
    Ok((dist, file, bytes))
}

/// Every digest the client sent must be the bytes' (hex, any case).
fn check_digests(form: &Form, bytes: &[u8]) -> Result<(), PypiError> {
    type Digest = fn(&[u8]) -> String;
    let checks: [(&str, Digest); 3] = [
        ("sha256_digest", |b| hex::encode(Sha256::digest(b))),
        ("blake2_256_digest", |b| {
            hex::encode(Blake2b::<U32>::digest(b))
        }),
        ("md5_digest", |b| hex::encode(Md5::digest(b))),
    ];
    for (field, digest) in checks {
        if let Some(sent) = form.field(field)
            && !sent.eq_ignore_ascii_case(&digest(bytes))
        {
            return Err(PypiError::bad_request(format!(
                "The {field} sent does not match the file's contents: the upload was damaged; try again."
            )));
        }
    }
    Ok(())
}

/// An upload of a file name that exists: the same bytes again is a success (a retry); other
/// bytes are refused; a second sdist for one version is refused (one per release).
async fn already_there(
    state: &PypiState,
    pkg: &PackageState,
    dist: &DistFile,
    file: &str,
    sha256: &str,
) -> Result<Option<Response>, PypiError> {
    if let Some(old) = pkg.release(file) {
        if old.blob_sha256 == sha256 {
            return Ok(Some((StatusCode::OK, "OK\n").into_response()));
        }
        return Err(file_exists(file));
    }
    // The same wheel under another spelling of its version (`1.0` and `1.0.0`).
    if let Some(other) = pkg.releases.iter().find(|r| {
        filename::parse(&r.version).is_ok_and(|d| d.kind == Kind::Wheel && d.same_as(dist))
    }) {
        return Err(file_exists(&other.version));
    }
    if dist.kind == Kind::Sdist {
        let records = state.registry.release_metadata(pkg.id).await?;
        let has_sdist = records.into_iter().any(|(_, m)| {
            serde_json::from_value::<StoredFile>(m).is_ok_and(|s| {
                s.filetype == Kind::Sdist.filetype() && version::same(&s.version, &dist.version)
            })
        });
        if has_sdist {
            return Err(PypiError::bad_request(format!(
                "Only one sdist may be uploaded per release: version {} already has one.",
                dist.version
            )));
        }
    }
    Ok(None)
}
