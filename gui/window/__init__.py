"""The panel window's parts, one per thing the window does; `gui.main_window.MainWindow` composes them.

    banner.py      readable errors and notes above the body
    connection.py  the header: daemon link, model line, Start daemon / Connect…, the local daemon process
    compose.py     the form and its Generate / Variations / Continue / Cancel actions
    jobs.py        the jobs this panel sent, and every reply routed by its request id
    results.py     the finished loops: list, thumbnails, output folder
    transport.py   preview playback and streaming, the preview bar

Each part builds and wires its own widgets; the window lays them out and connects one part to another.
See docs/ARCHITECTURE.md for where the panel sits in the system.
"""
