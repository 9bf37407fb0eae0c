"""What users do with a library once files are in it: tags, albums and events; verify,
dupes, missing and relink; copying and moving files into the managed folder (gather,
organize, transfer) and recovering from a crash."""
