"""Audio math and files: exact loop arithmetic, loop rendering, reading/writing, stretching."""
