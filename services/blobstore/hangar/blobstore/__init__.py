"""hangar.blobstore: content-addressed blobs, resumable uploads and range reads over pluggable storage."""
