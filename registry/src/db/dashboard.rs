//! What the dashboard pages read: figures, customers, the download audit. (Being written.)
