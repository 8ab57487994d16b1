//! More of this test target's cases (split by size).

#[allow(unused_imports)]
use super::*;

#[test]
pub(crate) fn an_sdist_must_be_one_directory_with_pkg_info() {
    let meta = META.as_bytes();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "no PKG-INFO",
            sdist_of(&[file("acme_pro-1.0.0/setup.py", b"")]),
            "no NAME-VERSION/PKG-INFO",
        ),
        (
            "PKG-INFO deeper than the top",
            sdist_of(&[file("acme_pro-1.0.0/src/PKG-INFO", meta)]),
            "no NAME-VERSION/PKG-INFO",
        ),
        (
            "PKG-INFO as a directory",
            sdist_of(&[(
                header("acme_pro-1.0.0/PKG-INFO", tar::EntryType::Directory, 0),
                b"",
            )]),
            "no NAME-VERSION/PKG-INFO",
        ),
        (
            "PKG-INFO as a symlink",
            sdist_of(&[(
                {
                    let mut h = header("acme_pro-1.0.0/PKG-INFO", tar::EntryType::Symlink, 0);
                    h.set_link_name("/etc/passwd").expect("link");
                    h.set_cksum();
                    h
                },
                b"",
            )]),
            "no NAME-VERSION/PKG-INFO",
        ),
        (
            "PKG-INFO twice",
            sdist_of(&[
                file("acme_pro-1.0.0/PKG-INFO", meta),
                file("acme_pro-1.0.0/PKG-INFO", meta),
            ]),
            "PKG-INFO appears twice",
        ),
        (
            "two top directories",
            sdist_of(&[
                file("acme_pro-1.0.0/PKG-INFO", meta),
                file("other-1.0/setup.py", b""),
            ]),
            "every file must be under one NAME-VERSION/ directory",
        ),
        (
            "a ../ path",
            sdist_of(&[
                file("acme_pro-1.0.0/PKG-INFO", meta),
                file("acme_pro-1.0.0/../../etc/cron.d/x", b"* * * * * root sh\n"),
            ]),
            "climbs out of the archive",
        ),
        (
            "a ../ path first",
            sdist_of(&[file("../acme_pro-1.0.0/PKG-INFO", meta)]),
            "climbs out of the archive",
        ),
        (
            "a ..\\ path",
            sdist_of(&[
                file("acme_pro-1.0.0/PKG-INFO", meta),
                file("acme_pro-1.0.0/..\\..\\x", b""),
            ]),
            "climbs out of the archive",
        ),
        (
            "an absolute path",
            sdist_of(&[file("/etc/passwd", b"root::0:0::/:/bin/sh\n")]),
            "climbs out of the archive",
        ),
        (
            "a ../ path in a PAX record",
            sdist_of(&[
                file("acme_pro-1.0.0/PKG-INFO", meta),
                pax(&[("path", "acme_pro-1.0.0/../../x")]),
                file("acme_pro-1.0.0/x", b""),
            ]),
            "climbs out of the archive",
        ),
        (
            "a PAX size record",
            sdist_of(&[pax(&[("size", "5")]), file("acme_pro-1.0.0/PKG-INFO", meta)]),
            "PAX size records are not supported",
        ),
        (
            "PKG-INFO over the limit",
            sdist_of(&[(
                header(
                    "acme_pro-1.0.0/PKG-INFO",
                    tar::EntryType::Regular,
                    MAX_METADATA + 1,
                ),
                vec![b'a'; MAX_METADATA as usize + 1].leak(),
            )]),
            "PKG-INFO is 1048577 bytes",
        ),
        (
            "a header describing no entry",
            gzip(&{
                let mut t = tar_raw(&[file("acme_pro-1.0.0/PKG-INFO", meta)]);
                let (h, d) = pax(&[("path", "acme_pro-1.0.0/x")]);
                let end = t.len() - 1024;
                let mut rec = h.as_bytes().to_vec();
                rec.extend_from_slice(d);
                rec.resize(rec.len().next_multiple_of(512), 0);
                t.splice(end..end, rec);
                t
            }),
            "describes no entry",
        ),
        ("not gzip", b"PKG-INFO".to_vec(), "not a valid gzipped tar"),
        (
            "a wheel as an sdist",
            wheel_with(meta),
            "not a valid gzipped tar",
        ),
    ];
    for (what, bytes, reason) in cases {
        refused(what, Kind::Sdist, &bytes, reason, 4 * MIB);
    }
}

#[test]
pub(crate) fn a_truncated_or_damaged_sdist_is_refused() {
    let whole = good_sdist();
    // The gzip trailer (CRC and length) cut off, then more.
    for cut in [4, 8, 20, whole.len() / 2] {
        refused(
            &format!("{cut} bytes cut"),
            Kind::Sdist,
            &whole[..whole.len() - cut],
            "not a valid gzipped tar",
            4 * MIB,
        );
    }
    // A wrong CRC in the trailer.
    let mut bad_crc = whole.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 0xff;
    refused(
        "a wrong CRC",
        Kind::Sdist,
        &bad_crc,
        "not a valid gzipped tar",
        4 * MIB,
    );
    // A tar without its end: the last entry's data is cut.
    let tar = tar_raw(&[
        file("acme_pro-1.0.0/PKG-INFO", META.as_bytes()),
        file("acme_pro-1.0.0/big", &[7; 4096]),
    ]);
    refused(
        "a tar cut inside an entry",
        Kind::Sdist,
        &gzip(&tar[..512 * 3 + 100]),
        "not a valid gzipped tar",
        4 * MIB,
    );
}

/// Tar bombs: more entries than the cap, extension headers claiming hundreds of MiB, and an
/// entry inflating past `MAX_UNPACKED`, each from a small upload.
#[test]
pub(crate) fn tar_bombs_are_refused_within_bounded_memory() {
    // MAX_ENTRIES + 1 empty files after PKG-INFO: about 50 MB of tar, 100 KB gzipped.
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(META.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, "acme_pro-1.0.0/PKG-INFO", META.as_bytes())
        .expect("tar");
    for i in 0..MAX_ENTRIES {
        let mut h = tar::Header::new_ustar();
        h.set_size(0);
        h.set_mode(0o644);
        tar.append_data(&mut h, format!("acme_pro-1.0.0/f{i}"), &[][..])
            .expect("tar");
    }
    let many = gzip(&tar.into_inner().expect("tar"));
    eprintln!("{} entries in {} KiB", MAX_ENTRIES + 1, many.len() >> 10);
    refused(
        "more entries than the cap",
        Kind::Sdist,
        &many,
        "more than 100000 entries",
        4 * MIB,
    );

    refused(
        "a GNU long name claiming 500 MiB",
        Kind::Sdist,
        &gzip_then_zeros(
            header("././@LongLink", tar::EntryType::GNULongName, 500 << 20).as_bytes(),
            600,
        ),
        "tar extension header",
        4 * MIB,
    );
    refused(
        "a PAX header claiming 500 MiB",
        Kind::Sdist,
        &gzip_then_zeros(
            header("./PaxHeaders/x", tar::EntryType::XHeader, 500 << 20).as_bytes(),
            600,
        ),
        "tar extension header",
        4 * MIB,
    );

    let bomb = gzip_then_zeros(
        header("acme_pro-1.0.0/zeros", tar::EntryType::Regular, 600 << 20).as_bytes(),
        600,
    );
    assert!(bomb.len() < 2 * MIB, "{}", bomb.len());
    refused(
        "an entry of 600 MiB of zeros",
        Kind::Sdist,
        &bomb,
        "unpacks to more than 512 MiB",
        4 * MIB,
    );
}
