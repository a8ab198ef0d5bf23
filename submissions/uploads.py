"""Upload handler: streams the request body to a temporary file while hashing and measuring it.

Nothing is held in memory beyond one chunk. A file that grows past MAX_UPLOAD_BYTES stops being
written (its temporary file is emptied) while the rest of the body is drained, so the view can
record a FILE004 refusal with a clear message instead of a broken connection.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.utils import timezone


class HashedUpload(TemporaryUploadedFile):
    sha256: str = ""
    received_size: int = 0
    oversized: bool = False
    received_at: Any = None


class HashingUploadHandler(TemporaryFileUploadHandler):
    chunk_size = 1024 * 1024

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file.__class__ = HashedUpload
        self._hasher = hashlib.sha256()
        self._size = 0
        self._oversized = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._size += len(raw_data)
        if self._oversized:
            return None
        if self._size > settings.MAX_UPLOAD_BYTES:
            self._oversized = True
            self.file.seek(0)
            self.file.truncate()
            return None
        self._hasher.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> HashedUpload:
        upload = super().file_complete(file_size)
        assert isinstance(upload, HashedUpload)
        upload.sha256 = "" if self._oversized else self._hasher.hexdigest()
        upload.received_size = self._size
        upload.oversized = self._oversized
        upload.received_at = timezone.now()
        return upload
