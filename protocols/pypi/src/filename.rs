//! Distribution file names: a wheel `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`
//! (PEP 427, PEP 491) or an sdist `{name}-{version}.tar.gz` (PEP 625). The file name says which
//! project and version a file belongs to, before anything is read or looked up.

use crate::name;
use crate::version;

/// The longest file name accepted (a file system's limit).
pub const MAX_FILENAME: usize = 255;

/// What a distribution file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Wheel,
    Sdist,
}

impl Kind {
    /// The upload form's `filetype`.
    pub fn filetype(self) -> &'static str {
        match self {
            Self::Wheel => "bdist_wheel",
            Self::Sdist => "sdist",
        }
    }
}

/// A parsed file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    /// The project, normalized (PEP 503).
    pub project: String,
    /// The version as the file name writes it.
    pub version: String,
    pub kind: Kind,
    /// A wheel's `python-abi-platform` tags, lowercase (empty for an sdist): with the project
    /// and the version, what makes two wheels the same file.
    pub tags: String,
}

impl DistFile {
    /// Is `other` the same distribution under another spelling (`1.0` and `1.0.0`)?
    pub fn same_as(&self, other: &DistFile) -> bool {
        self.project == other.project
            && self.kind == other.kind
            && self.tags == other.tags
            && version::same(&self.version, &other.version)
    }
}

/// A PEP 425 tag or a build tag's rest: letters, digits, `_` and `.`.
fn is_tag(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// Parses `filename`, or says why it is not a distribution file name.
pub fn parse(filename: &str) -> Result<DistFile, String> {
    let shown = || filename.chars().take(80).collect::<String>();
    if filename.len() > MAX_FILENAME
        || !filename
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'\\'))
    {
        return Err(format!("Invalid distribution file name '{}'", shown()));
    }
    if let Some(stem) = filename.strip_suffix(".whl") {
        return wheel(stem).ok_or_else(|| {
            format!(
                "Invalid wheel file name '{}': expected NAME-VERSION(-BUILD)?-PYTHON-ABI-PLATFORM.whl (PEP 427)",
                shown()
            )
        });
    }
    if let Some(stem) = filename.strip_suffix(".tar.gz") {
        return sdist(stem).ok_or_else(|| {
            format!(
                "Invalid sdist file name '{}': expected NAME-VERSION.tar.gz (PEP 625)",
                shown()
            )
        });
    }
    Err(format!(
        "Invalid file extension in '{}': use a wheel (.whl) or a source distribution (.tar.gz, PEP 625)",
        shown()
    ))
}

fn wheel(stem: &str) -> Option<DistFile> {
    let parts: Vec<&str> = stem.split('-').collect();
    let (name, version, tags) = match parts.as_slice() {
        [name, version, tags @ ..] if tags.len() == 3 => (*name, *version, tags),
        [name, version, build, tags @ ..]
            if tags.len() == 3
                && build.starts_with(|c: char| c.is_ascii_digit())
                && is_tag(build) =>
        {
            (*name, *version, tags)
        }
        _ => return None,
    };
    if !tags.iter().all(|t| is_tag(t)) {
        return None;
    }
    let mut file = found(name, version, Kind::Wheel)?;
    file.tags = tags.join("-").to_ascii_lowercase();
    Some(file)
}

/// `{name}-{version}`: PEP 625 names have no `-`; older sdists (`acme-pro-1.0`) split at the
/// last one.
fn sdist(stem: &str) -> Option<DistFile> {
    let first = stem.split_once('-');
    let last = stem.rsplit_once('-');
    [first, last]
        .into_iter()
        .flatten()
        .find_map(|(name, version)| found(name, version, Kind::Sdist))
}

fn found(name: &str, version: &str, kind: Kind) -> Option<DistFile> {
    (name::is_valid(name) && version::parse(version).is_ok()).then(|| DistFile {
        project: name::normalize(name),
        version: version.to_owned(),
        kind,
        tags: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_spelling_is_the_same_file() {
        let a = parse("acme_pro-1.0-py3-none-any.whl").expect("a");
        let b = parse("acme_pro-1.0.0-PY3-none-any.whl").expect("b");
        let c = parse("acme_pro-1.0.0-py2-none-any.whl").expect("c");
        assert!(a.same_as(&b));
        assert!(!a.same_as(&c));
    }

    fn ok(f: &str) -> (String, String, Kind) {
        let d = parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        (d.project, d.version, d.kind)
    }

    #[test]
    fn parses_wheels_and_sdists() {
        assert_eq!(
            ok("acme_pro-1.0.0-py3-none-any.whl"),
            ("acme-pro".into(), "1.0.0".into(), Kind::Wheel)
        );
        assert_eq!(
            ok("acme_pro-1.0.0-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            ("acme-pro".into(), "1.0.0".into(), Kind::Wheel)
        );
        assert_eq!(
            ok("acme_pro-1.0.0rc1.tar.gz"),
            ("acme-pro".into(), "1.0.0rc1".into(), Kind::Sdist)
        );
        assert_eq!(
            ok("acme-pro-1.0.tar.gz"),
            ("acme-pro".into(), "1.0".into(), Kind::Sdist)
        );
    }

    #[test]
    fn refuses_what_is_not_a_distribution() {
        for bad in [
            "acme_pro-1.0.0.zip",
            "acme_pro-1.0.0-py3-any.whl",
            "acme_pro-1.0.0-x-py3-none-any.whl",
            "../acme_pro-1.0.0.tar.gz",
            "acme_pro-1.0.0+local.tar.gz",
            "acme_pro.tar.gz",
            "acme_pro-1.0.0--none-any.whl",
            "acme pro-1.0.tar.gz",
            "acme_pro-1.0.0-py3-none-any#x.whl",
            "acme_pro-1.0.0-py3-none-a%2541.whl",
            "acme_pro-1.0.0-1<b>-py3-none-any.whl",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
