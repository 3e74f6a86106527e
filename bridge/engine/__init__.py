"""The model: loading, conditioning, our decode loop, transformers' generate, streaming decode."""
