"""Pure media decisions: probe interpretation, the ladder, FFmpeg/ffprobe argument lists,
the failure taxonomy, HLS playlists and WebVTT.

Nothing here does I/O or imports the rest of streamcore (an import-linter contract in
`make lint` holds that), so every function is tested with plain values.
"""
