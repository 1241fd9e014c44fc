from streamcore.adapters.storage.base import (
    ObjectNotFound,
    ObjectStorage,
    StorageError,
    StorageUnavailable,
)

__all__ = ["ObjectNotFound", "ObjectStorage", "StorageError", "StorageUnavailable"]
