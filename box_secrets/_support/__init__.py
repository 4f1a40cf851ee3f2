"""What every part of box-secrets leans on: retries, files, optional imports, crash points,
conflict loops, time, the cache registry, log redaction."""
