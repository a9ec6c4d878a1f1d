"""Everything that talks to Argilla: the client, the dataset schema, push and pull."""
