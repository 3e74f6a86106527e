"""MIDI controllers: ports, pad lights, the trigger controller, the service thread, mapping, clock."""
