"""Default size limits of the READ stage (spec 4.1). The portal settings override them."""

MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # FILE004
MAX_UNZIPPED_BYTES = 2 * 1024 * 1024 * 1024  # FILE006
