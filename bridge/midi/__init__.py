"""MIDI controllers: ports, the mapping file, pad lights, the trigger controller, the service thread, MIDI
learn and the clock follower (the daemon's side is `service`; the panel's is `learn`)."""
