"""Jobs: long operations as database records with their events, run in or out of process."""
