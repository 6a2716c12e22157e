"""Getting messages out: the transport chosen by settings, the SMTP pool, the sender loop."""
