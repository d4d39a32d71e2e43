"""Live connections: the hub that wakes the streams of end users when their conversations change."""
