"""The file system beneath the library: walking folders, telling a gone file from one out of
reach, placing files safely, and the managed folder's layout. Knows nothing of the library
file (see luna.store for the order of the layers)."""
