//! The signed registry resources: `packages/NAME`, `names` and `versions`, each a protobuf
//! payload signed with the seller's key, wrapped in `Signed` and gzipped (the client gunzips
//! the body itself, so it is served without `Content-Encoding`). Pure: callers pass in what the
//! caller may see.

use std::io::Write;

use prost::Message;
use serde::{Deserialize, Serialize};
use tollgate_registry::access::Visibility;
use tollgate_registry::domain::{Ecosystem, PackageState, Release};

use crate::metadata::Metadata;
use crate::proto;
use crate::signing::SigningKey;

/// What a Hex release keeps in the registry's metadata column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRelease {
    pub metadata: Metadata,
    /// SHA-256 of `VERSION ++ metadata.config ++ contents.tar.gz`, lowercase hex.
    pub inner_checksum: String,
}

/// The releases `vis` lets the caller see, ascending by version (as `mix hex.registry build`
/// lists them).
pub fn visible(pkg: &PackageState, vis: Visibility) -> Vec<&Release> {
    let mut releases: Vec<&Release> =
        tollgate_registry::yanked::listed(pkg, Ecosystem::Hex, vis).collect();
    releases.sort_by(|a, b| compare_versions(&a.version, &b.version));
    releases
}

fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// `packages/NAME`: the releases listed, each with its dependencies and both checksums.
/// `stored` gives each release's [`StoredRelease`]; a release without one is left out.
pub fn package(
    repository: &str,
    name: &str,
    releases: &[&Release],
    stored: impl Fn(&Release) -> Option<StoredRelease>,
) -> proto::Package {
    let releases = releases
        .iter()
        .filter_map(|r| {
            let s = stored(r)?;
            Some(proto::Release {
                version: r.version.clone(),
                inner_checksum: hex::decode(&s.inner_checksum).ok()?,
                outer_checksum: Some(hex::decode(&r.blob_sha256).ok()?),
                dependencies: s
                    .metadata
                    .requirements
                    .iter()
                    .map(|d| proto::Dependency {
                        package: d.name.clone(),
                        requirement: d.requirement.clone(),
                        optional: d.optional.then_some(true),
                        app: d.app.clone().filter(|app| *app != d.name),
                        // A dependency in this same repository needs no name: clients then
                        // look in the repository the buyer configured, whatever they called it.
                        repository: d.repository.clone().filter(|repo| repo != repository),
                    })
                    .collect(),
                retired: r.retired.as_ref().map(|t| proto::RetirementStatus {
                    reason: proto::RetirementReason::parse(&t.reason)
                        .unwrap_or(proto::RetirementReason::Other)
                        as i32,
                    message: Some(t.message.clone()).filter(|m| !m.is_empty()),
                }),
                published_at: Some(proto::Timestamp::from_millis(r.published_at.0)),
            })
        })
        .collect();
    proto::Package {
        releases,
        name: name.to_owned(),
        repository: repository.to_owned(),
    }
}

/// One package's line in `names` and `versions`.
pub struct Listed<'a> {
    pub name: &'a str,
    pub releases: Vec<&'a Release>,
}

pub fn names(repository: &str, listed: &[Listed<'_>]) -> proto::Names {
    proto::Names {
        packages: listed
            .iter()
            .map(|l| proto::NamesPackage {
                name: l.name.to_owned(),
                updated_at: l
                    .releases
                    .iter()
                    .map(|r| r.published_at.0)
                    .max()
                    .map(proto::Timestamp::from_millis),
            })
            .collect(),
        repository: repository.to_owned(),
    }
}

pub fn versions(repository: &str, listed: &[Listed<'_>]) -> proto::Versions {
    proto::Versions {
        packages: listed
            .iter()
            .map(|l| proto::VersionsPackage {
                name: l.name.to_owned(),
                versions: l.releases.iter().map(|r| r.version.clone()).collect(),
                retired: l
                    .releases
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.retired.is_some())
                    .map(|(i, _)| i as i32)
                    .collect(),
            })
            .collect(),
        repository: repository.to_owned(),
    }
}

/// `gzip(Signed{payload, signature})` of a message.
pub fn sign(key: &SigningKey, message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let signed = proto::Signed {
        signature: Some(key.sign(&payload)),
        payload,
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&signed.encode_to_vec());
    gz.finish().unwrap_or_default()
}

/// Reads a served `packages/NAME` back (gunzip, `Signed`, `Package`) without checking the
/// signature: for tests and tools that only need what it lists.
pub fn read_package(body: &[u8]) -> Result<proto::Package, String> {
    use std::io::Read;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut raw)
        .map_err(|e| format!("not gzip: {e}"))?;
    let signed = proto::Signed::decode(raw.as_slice()).map_err(|e| format!("not Signed: {e}"))?;
    proto::Package::decode(signed.payload.as_slice()).map_err(|e| format!("not a Package: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use tollgate_registry::domain::{Ecosystem, Retirement};
    use tollgate_registry::ids::{PackageId, ReleaseId, SellerId};
    use tollgate_registry::time::Timestamp;

    use crate::metadata::Requirement;

    fn release(id: i64, version: &str, at: i64) -> Release {
        Release {
            id: ReleaseId(id),
            version: version.into(),
            blob_sha256: "ab".repeat(32),
            size: 10,
            published_at: Timestamp(at),
            yanked: false,
            retired: None,
        }
    }

    fn state(releases: Vec<Release>) -> PackageState {
        PackageState {
            id: PackageId(1),
            seller_id: SellerId(1),
            ecosystem: Ecosystem::Hex,
            name: "acme_pro".into(),
            created_at: Timestamp(0),
            releases,
            dist_tags: vec![],
        }
    }

    fn stored(deps: Vec<Requirement>) -> StoredRelease {
        StoredRelease {
            metadata: crate::metadata::parse(
                "{<<\"name\">>,<<\"acme_pro\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n",
            )
            .map(|mut m| {
                m.requirements = deps;
                m
            })
            .expect("metadata"),
            inner_checksum: "cd".repeat(32),
        }
    }

    #[test]
    fn lists_visible_releases_by_version_with_raw_checksums() {
        let mut retired = release(3, "1.10.0", 300);
        retired.retired = Some(Retirement {
            reason: "security".into(),
            message: "CVE-1".into(),
        });
        let pkg = state(vec![
            release(1, "1.9.0", 100),
            retired,
            release(2, "1.2.0", 500),
        ]);
        let shown = visible(&pkg, Visibility::PublishedBefore(Timestamp(400)));
        assert_eq!(
            shown.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
            ["1.9.0", "1.10.0"]
        );
        let dep = |repo: Option<&str>| Requirement {
            name: "jason".into(),
            requirement: "~> 1.0".into(),
            optional: false,
            app: Some("jason".into()),
            repository: repo.map(Into::into),
        };
        let p = package("acme", "acme_pro", &shown, |r| {
            Some(stored(vec![dep(if r.id.0 == 1 {
                Some("hexpm")
            } else {
                Some("acme")
            })]))
        });
        assert_eq!(p.repository, "acme");
        assert_eq!(p.releases[0].inner_checksum, vec![0xcd; 32]);
        assert_eq!(p.releases[0].outer_checksum, Some(vec![0xab; 32]));
        assert_eq!(
            p.releases[0].dependencies[0].repository.as_deref(),
            Some("hexpm")
        );
        assert_eq!(p.releases[1].dependencies[0].repository, None);
        assert_eq!(p.releases[0].dependencies[0].app, None);
        let r = p.releases[1].retired.as_ref().expect("retired");
        assert_eq!(r.reason, proto::RetirementReason::Security as i32);
        let v = versions(
            "acme",
            &[Listed {
                name: "acme_pro",
                releases: shown,
            }],
        );
        assert_eq!(v.packages[0].retired, [1]);
    }

    #[test]
    fn signed_resources_verify() {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::signature::Verifier;
        let key =
            SigningKey::from_pem(include_str!("../tests/fixtures/test_key.pem")).expect("key");
        let names = names("acme", &[]);
        let mut gz = Vec::new();
        flate2::read::GzDecoder::new(sign(&key, &names).as_slice())
            .read_to_end(&mut gz)
            .expect("gzip");
        let signed = proto::Signed::decode(gz.as_slice()).expect("signed");
        let public = rsa::PublicKey::from_public_key_pem(key.public_pem()).expect("pem");
        let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha512>::new(public);
        let sig = rsa::pkcs1v15::Signature::try_from(signed.signature.as_deref().unwrap_or(&[]))
            .expect("signature");
        verifier.verify(&signed.payload, &sig).expect("verifies");
        assert_eq!(
            proto::Names::decode(signed.payload.as_slice()).expect("names"),
            names
        );
    }
}
