//! The Hex registry's protobuf messages (hexpm/specifications `registry/*.proto`, proto2), as
//! prost structs. Field numbers are the wire format: they match the spec, not our taste.

use prost::Message;

/// `signed.proto`: the payload and its RSA signature.
#[derive(Clone, PartialEq, Message)]
pub struct Signed {
    #[prost(bytes = "vec", required, tag = "1")]
    pub payload: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub signature: Option<Vec<u8>>,
}

/// `names.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct Names {
    #[prost(message, repeated, tag = "1")]
    pub packages: Vec<NamesPackage>,
    #[prost(string, required, tag = "2")]
    pub repository: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamesPackage {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub updated_at: Option<Timestamp>,
}

/// `versions.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct Versions {
    #[prost(message, repeated, tag = "1")]
    pub packages: Vec<VersionsPackage>,
    #[prost(string, required, tag = "2")]
    pub repository: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct VersionsPackage {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(string, repeated, tag = "2")]
    pub versions: Vec<String>,
    /// Indexes into `versions` of the retired ones.
    #[prost(int32, repeated, packed = "true", tag = "3")]
    pub retired: Vec<i32>,
}

/// `package.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct Package {
    #[prost(message, repeated, tag = "1")]
    pub releases: Vec<Release>,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(string, required, tag = "3")]
    pub repository: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Release {
    #[prost(string, required, tag = "1")]
    pub version: String,
    #[prost(bytes = "vec", required, tag = "2")]
    pub inner_checksum: Vec<u8>,
    #[prost(message, repeated, tag = "3")]
    pub dependencies: Vec<Dependency>,
    #[prost(message, optional, tag = "4")]
    pub retired: Option<RetirementStatus>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub outer_checksum: Option<Vec<u8>>,
    #[prost(message, optional, tag = "7")]
    pub published_at: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dependency {
    #[prost(string, required, tag = "1")]
    pub package: String,
    #[prost(string, required, tag = "2")]
    pub requirement: String,
    #[prost(bool, optional, tag = "3")]
    pub optional: Option<bool>,
    #[prost(string, optional, tag = "4")]
    pub app: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub repository: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RetirementStatus {
    #[prost(enumeration = "RetirementReason", required, tag = "1")]
    pub reason: i32,
    #[prost(string, optional, tag = "2")]
    pub message: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RetirementReason {
    Other = 0,
    Invalid = 1,
    Security = 2,
    Deprecated = 3,
    Renamed = 4,
}

impl RetirementReason {
    /// The names the Hex API and `mix hex.retire` use.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "other" => Self::Other,
            "invalid" => Self::Invalid,
            "security" => Self::Security,
            "deprecated" => Self::Deprecated,
            "renamed" => Self::Renamed,
            _ => return None,
        })
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    #[prost(int64, required, tag = "1")]
    pub seconds: i64,
    #[prost(int32, required, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Self {
            seconds: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_round_trips() {
        let package = Package {
            name: "acme_pro".into(),
            repository: "acme".into(),
            releases: vec![Release {
                version: "1.0.0".into(),
                inner_checksum: vec![1; 32],
                outer_checksum: Some(vec![2; 32]),
                dependencies: vec![Dependency {
                    package: "jason".into(),
                    requirement: "~> 1.0".into(),
                    optional: Some(true),
                    app: Some("jason".into()),
                    repository: Some("hexpm".into()),
                }],
                retired: Some(RetirementStatus {
                    reason: RetirementReason::Security as i32,
                    message: Some("CVE".into()),
                }),
                published_at: Some(Timestamp::from_millis(1_700_000_000_123)),
            }],
        };
        let bytes = package.encode_to_vec();
        assert_eq!(Package::decode(bytes.as_slice()).expect("decodes"), package);
    }

    #[test]
    fn field_numbers_match_the_spec() {
        // Names{packages=[{name="a"}], repository="r"}: field 1 (LEN) then field 2 (LEN).
        let names = Names {
            packages: vec![NamesPackage {
                name: "a".into(),
                updated_at: None,
            }],
            repository: "r".into(),
        };
        assert_eq!(
            names.encode_to_vec(),
            [0x0a, 3, 0x0a, 1, b'a', 0x12, 1, b'r']
        );
        // Versions' retired indexes are packed: field 3, LEN, then varints.
        let v = VersionsPackage {
            name: "a".into(),
            versions: vec!["1".into(), "2".into()],
            retired: vec![1],
        };
        assert_eq!(
            v.encode_to_vec(),
            [0x0a, 1, b'a', 0x12, 1, b'1', 0x12, 1, b'2', 0x1a, 1, 1]
        );
        assert_eq!(Timestamp::from_millis(-1).seconds, -1);
    }
}
