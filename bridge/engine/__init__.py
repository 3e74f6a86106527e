"""The model: shared types, loading, `Engine`, our decode loop and transformers' generate, conditioning,
long-loop windows, streaming decode, chroma and the architecture table (see docs/ARCHITECTURE.md)."""
