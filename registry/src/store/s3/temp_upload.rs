//! A multipart upload (and the object it becomes) that is cleaned up however its owner ends.

use aws_sdk_s3::Client;

use super::errors::chain;

/// A multipart upload in progress, and the temporary object it becomes:
/// [`TempUpload::clean_up`] aborts the upload if it is still open and, if `delete_object`, deletes
/// the object; if the future owning it is dropped first, `Drop` does the same on a spawned task.
pub(super) struct TempUpload {
    pub(super) client: Client,
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) upload_id: Option<String>,
    /// False for an upload to a final key, which is never ours to delete.
    pub(super) delete_object: bool,
    pub(super) armed: bool,
}

impl TempUpload {
    pub(super) async fn clean_up(&mut self) {
        self.armed = false;
        clean_up(
            self.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
            self.upload_id.take(),
            self.delete_object,
        )
        .await;
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(clean_up(
                self.client.clone(),
                std::mem::take(&mut self.bucket),
                std::mem::take(&mut self.key),
                self.upload_id.take(),
                self.delete_object,
            ));
        }
    }
}

async fn clean_up(
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
    delete_object: bool,
) {
    if let Some(id) = upload_id
        && let Err(e) = client
            .abort_multipart_upload()
            .bucket(&bucket)
            .key(&key)
            .upload_id(id)
            .send()
            .await
    {
        tracing::warn!(bucket, key, error = %chain(&e), "could not abort an S3 multipart upload");
    }
    if delete_object
        && let Err(e) = client
            .delete_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
    {
        tracing::warn!(bucket, key, error = %chain(&e), "could not delete a temporary S3 object");
    }
}
