use super::*;
use crate::store::Store;
use futures_util::StreamExt;

#[tokio::test]
async fn put_is_content_addressed_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::Fs(FsStore::new(dir.path()));
    let a = store.put_bytes(b"hello").await.expect("put");
    assert_eq!(
        a.sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    let b = store.put_bytes(b"hello").await.expect("put again");
    assert_eq!(a, b);
    let mut blob = store.open(&a.sha256).await.expect("open");
    assert_eq!(blob.size, 5);
    let mut read = Vec::new();
    while let Some(chunk) = blob.body.next().await {
        read.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(read, b"hello");
    assert!(
        std::fs::read_dir(dir.path().join("tmp"))
            .expect("tmp dir")
            .next()
            .is_none(),
        "no temporary files left"
    );
    assert!(matches!(
        store.open(&"0".repeat(64)).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.open("../etc/passwd").await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn ping_list_and_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::Fs(FsStore::new(dir.path().join("store")));
    assert!(store.list_blobs().await.expect("empty list").is_empty());
    store
        .ping()
        .await
        .expect("ping creates and writes the folder");
    let before = crate::time::Timestamp::now();
    let a = store.put_bytes(b"a").await.expect("put a");
    let b = store.put_bytes(b"b").await.expect("put b");
    std::fs::write(dir.path().join("store/blobs/sha256/stray"), b"x").expect("stray");
    std::fs::create_dir(dir.path().join("store/blobs/sha256/aa/bb/cc")).ok();
    let mut listed = store.list_blobs().await.expect("list");
    listed.sort();
    let mut want = vec![a.sha256.clone(), b.sha256.clone()];
    want.sort();
    assert_eq!(
        listed.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
        want
    );
    assert!(listed.iter().all(|(_, t)| t.0 >= before.0 - 2_000));
    store.delete_blob(&a.sha256).await.expect("delete");
    store.delete_blob(&a.sha256).await.expect("delete again");
    assert!(matches!(
        store.open(&a.sha256).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(store.list_blobs().await.expect("list").len(), 1);
    assert!(matches!(
        store.delete_blob("../../etc/passwd").await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        store
            .presigned_get(&b.sha256, std::time::Duration::from_secs(60))
            .await
            .expect("presign"),
        None
    );

    let file = dir.path().join("file");
    std::fs::write(&file, b"").expect("file");
    let err = Store::Fs(FsStore::new(&file))
        .ping()
        .await
        .expect_err("not a folder");
    assert!(err.to_string().contains("not writable"), "{err}");
}
