"""Reading files into the library: what each file is (sniff), what it says about itself
(extract, in worker processes), and recording it (importer, relations)."""
