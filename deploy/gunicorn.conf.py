"""gunicorn settings for production:

    gunicorn calltracking.wsgi -c deploy/gunicorn.conf.py

WEB_CONCURRENCY overrides the number of worker processes; GUNICORN_BIND the address.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# What `python -m bench.load --sweep-workers 1,2,3,4,5` recommended on 2 cores (twice the
# cores plus one: a webhook spends about half its time waiting on PostgreSQL); measure on your
# own machine (docs/performance.md).
workers = int(os.environ.get("WEB_CONCURRENCY", "5"))

# Twilio waits 15 s for a webhook's answer, then gives up on it (and asks the Voice Fallback
# URL). Every wait on the database is bounded far below this (WEBHOOK_DB_TIMEOUT, the
# connect timeout); a worker stuck longer anyway is killed and replaced before Twilio's limit,
# not at gunicorn's default of 30 s.
timeout = 10
graceful_timeout = 10

# The proxy in front keeps connections to us open between requests.
keepalive = 5
