"""The OSC daemon: start-up (app), bind and allow-list (net), clients and reply addresses (clients), the
OSC loop (server), the job vocabulary (types), the queue and worker (jobs), the model adapter (renderer),
the journal. Only app and renderer import the model; see docs/ARCHITECTURE.md for the data path."""
