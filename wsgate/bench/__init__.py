"""``wsgate bench``: load scenarios measured side by side with a bare-websockets baseline."""
