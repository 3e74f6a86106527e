"""The OSC daemon: network options, the server, the job queue and worker, the journal."""
