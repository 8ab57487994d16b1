//! Token scopes on the one read path: a metadata-only bot token lists what the org's live
//! token lists and may read each release's metadata, but every archive download is refused
//! with a sentence naming the scope and what to use instead, and nothing is recorded; a bot
//! token of scope `read` downloads like any org token.

use super::*;

fn forbidden_for_metadata(refusal: &Refusal) -> bool {
    matches!(refusal, Refusal::Forbidden(why)
        if why.contains("(renovate) has scope `metadata`")
            && why.contains("never downloads a package")
            && why.contains("use a token of scope `read`"))
}

#[tokio::test]
async fn a_metadata_only_token_lists_everything_and_downloads_nothing() {
    let w = world().await;
    for ecosystem in ECOSYSTEMS {
        let live = seen(&w, &w.live, ecosystem).await;
        let metadata = seen(&w, &w.metadata, ecosystem).await;
        let reader = seen(&w, &w.reader, ecosystem).await;
        assert!(live.listed.is_ok(), "{ecosystem}: {:?}", live.listed);
        assert_eq!(metadata.listed, live.listed, "{ecosystem}: listing");
        assert_eq!(reader.listed, live.listed, "{ecosystem}: read bot listing");
        let caller = w
            .registry
            .authenticate(&w.seller, Some(&w.metadata))
            .await
            .expect("authenticates");
        for (((version, live), (_, meta)), (_, read)) in live
            .downloads
            .iter()
            .zip(&metadata.downloads)
            .zip(&reader.downloads)
        {
            assert_eq!(read, live, "{ecosystem} {version}: a read bot token");
            match (live, meta) {
                (Ok(()), Err(refusal)) if forbidden_for_metadata(refusal) => {}
                // What the live token may not have, the metadata token is refused the same way:
                // the scope is only mentioned for a release the caller may see.
                (Err(l), Err(m)) if l == m => {}
                other => panic!("{ecosystem} {version}: (live, metadata) = {other:?}"),
            }
            let described = w
                .registry
                .describable(&caller, ecosystem, "kit", version)
                .await
                .expect("describable")
                .map(|a| assert_eq!(a.release.version, *version));
            assert_eq!(&described, live, "{ecosystem} {version}: its metadata");
        }
    }

    // File names that split several ways (RubyGems) take the same path.
    let caller = w
        .registry
        .authenticate(&w.seller, Some(&w.metadata))
        .await
        .expect("authenticates");
    let candidates = [("kit-1.0", "0"), ("kit", "1.0.0")];
    let any = w
        .registry
        .downloadable_any(&caller, Ecosystem::Rubygems, &candidates)
        .await
        .expect("decide");
    assert!(
        any.as_ref().is_err_and(forbidden_for_metadata),
        "downloadable_any: {any:?}"
    );
    let described = w
        .registry
        .describable_any(&caller, Ecosystem::Rubygems, &candidates)
        .await
        .expect("decide")
        .map(|a| a.release.version);
    assert_eq!(described, Ok("1.0.0".to_owned()));

    // Only the tokens that may download left download events.
    let metadata_id = token::parse(&w.metadata).expect("parses").id.to_owned();
    let recorded = w
        .registry
        .0
        .db
        .downloads(w.seller.id, 1_000)
        .await
        .expect("downloads");
    assert!(!recorded.is_empty(), "the live and read tokens downloaded");
    assert!(
        recorded.iter().all(|e| e.token_id.0 != metadata_id),
        "a refused download was recorded: {recorded:?}"
    );
}
