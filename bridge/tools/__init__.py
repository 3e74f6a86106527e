"""Developer tools: the benchmark and the Max for Live device builder."""
