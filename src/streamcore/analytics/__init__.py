"""Analytics: playback beacons, server-side stream and upload facts, hourly rollups."""
