"""The edges that touch the file system: readers, writers, locks and history."""
